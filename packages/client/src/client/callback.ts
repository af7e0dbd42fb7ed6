import { FerryAuthorizationError } from './errors.js';

/** Where the user came back: the full URL, its query, or a framework's parsed query object. */
export type CallbackInput = string | URL | URLSearchParams | Record<string, string | string[] | undefined>;

export interface CallbackResult {
  /** The authorization code: exchange it within 60 seconds, once. */
  code: string;
  consentId: string | null;
  state: string;
  /** The issuer Ferry named (RFC 9207); Aiia sends none. */
  iss: string | null;
}

export interface ParseCallbackOptions {
  /** The `state` returned by `createConnectUrl`, kept in the user's session. */
  state: string;
  /** The issuer to expect in `iss` (RFC 9207); a callback without `iss` passes, as Aiia sends none. */
  issuer: string;
}

/**
 * Checks the redirect back from the connect flow and returns its code, in the order RFC 9207 §2.4
 * and RFC 6749 §10.12 want: the issuer, then the state, and only then the code or the error.
 */
export function parseCallback(input: CallbackInput, options: ParseCallbackOptions): CallbackResult {
  const read = reader(input);
  const iss = read('iss');
  if (iss !== null && iss !== options.issuer) {
    throw new FerryAuthorizationError({ error: 'issuer_mismatch', errorDescription: `The callback comes from ${iss}, not ${options.issuer} (RFC 9207).` });
  }
  const state = read('state');
  if (state === null || !sameString(state, options.state)) {
    throw new FerryAuthorizationError({
      error: 'state_mismatch',
      errorDescription: 'The state does not match the one this session started with: an old tab, or a forged request. The code was not used.',
      state,
    });
  }
  const error = read('error');
  if (error !== null) throw new FerryAuthorizationError({ error, errorDescription: read('error_description'), state });
  const code = read('code');
  if (code === null) {
    // Aiia sends the user back with neither code nor error when they cancel or the bank fails.
    throw new FerryAuthorizationError({ error: 'invalid_callback', errorDescription: 'The callback has no code: the user cancelled, or the connection failed.', state });
  }
  return { code, consentId: read('consentId'), state, iss };
}

function reader(input: CallbackInput): (name: string) => string | null {
  if (typeof input === 'string' || input instanceof URL) {
    const url = typeof input === 'string' ? new URL(input, 'http://callback.invalid') : input;
    return (name) => nonEmpty(url.searchParams.get(name));
  }
  if (input instanceof URLSearchParams) return (name) => nonEmpty(input.get(name));
  return (name) => {
    const value = input[name];
    // A parameter sent twice is ambiguous (RFC 6749 §3.1): treat it as absent.
    return Array.isArray(value) ? null : nonEmpty(value ?? null);
  };
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value;
}

function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

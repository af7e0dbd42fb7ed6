/**
 * Every failure of a {@link FerryClient} call is a `FerryError`, carrying the RFC 6749 §5.2 /
 * RFC 6750 §3.1 `error` code the server sent (or one of the client's own codes below), so
 *
 *     if (error instanceof FerryError && error.error === 'invalid_grant') reconnect();
 *
 * The subclass says where it came from; `kind` says the same for a `switch`.
 */

/** The codes Ferry answers with: RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, and Ferry's `not_found`. */
export type ServerErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'slow_down'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'not_found';

/** Codes the client itself assigns when there is no server answer to read one from. */
export type ClientErrorCode =
  /** fetch failed: no connection, a reset, or the client's timeout. */
  | 'network_error'
  /** The server answered something that is not the JSON the API describes. */
  | 'invalid_response'
  /** The callback's `state` is not the one the connect URL was built with (RFC 6749 §10.12). */
  | 'state_mismatch'
  /** The callback's `iss` names another server (RFC 9207 §2.4). */
  | 'issuer_mismatch'
  /** The callback has neither a code nor an error. */
  | 'invalid_callback';

/** Open-ended: a server may add codes (RFC 6749 §8.5); the known ones still autocomplete and narrow. */
export type FerryErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

export type FerryErrorKind = 'oauth' | 'bearer' | 'api' | 'authorization' | 'network';

/** A parsed `WWW-Authenticate` challenge (RFC 9110 §11.6.1), e.g. `Bearer error="invalid_token"`. */
export interface AuthChallenge {
  scheme: string;
  /** Auth-params, names lowercased: `realm`, `error`, `error_description`, `scope`. */
  params: Record<string, string>;
}

export interface FerryErrorInit {
  error: FerryErrorCode;
  errorDescription?: string | null;
  status?: number | null;
  /** The operation, as its OpenAPI path (`GET /v1/accounts/{accountId}`): no ids, no tokens. */
  operation?: string | null;
  wwwAuthenticate?: string | null;
  retryAfter?: number | null;
  cause?: unknown;
}

export abstract class FerryError extends Error {
  abstract readonly kind: FerryErrorKind;
  /** RFC 6749 / 6750 `error`, or a {@link ClientErrorCode}. */
  readonly error: FerryErrorCode;
  /** The server's `error_description`, meant for developers, not end users. */
  readonly errorDescription: string | null;
  /** The HTTP status; null when there was no HTTP answer (network, callback). */
  readonly status: number | null;
  readonly operation: string | null;
  /** The raw `WWW-Authenticate` header: `Basic …` for a refused client, `Bearer …` for a refused token. */
  readonly wwwAuthenticate: string | null;
  /** Seconds to wait before retrying (`Retry-After` on 429 and 503), when the server said. */
  readonly retryAfter: number | null;

  constructor(init: FerryErrorInit) {
    const description = init.errorDescription ?? null;
    super(
      `${init.operation ? `${init.operation}: ` : ''}${init.error}${init.status ? ` (${init.status})` : ''}${description ? `: ${description}` : ''}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = new.target.name;
    this.error = init.error;
    this.errorDescription = description;
    this.status = init.status ?? null;
    this.operation = init.operation ?? null;
    this.wwwAuthenticate = init.wwwAuthenticate ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Worth retrying later, unchanged: the server was busy or away, or the network failed. */
  get retryable(): boolean {
    return this.error === 'temporarily_unavailable' || this.error === 'slow_down' || this.error === 'network_error' || (this.status !== null && this.status >= 500);
  }
}

/** The token or revocation endpoint, or the app's own credentials, refused (RFC 6749 §5.2). `invalid_grant`: connect the user again. */
export class FerryOAuthError extends FerryError {
  readonly kind = 'oauth';
}

/** The data API refused the access token (RFC 6750 §3.1): `invalid_token` (expired, revoked, consent ended) or `insufficient_scope`. */
export class FerryBearerError extends FerryError {
  readonly kind = 'bearer';
  /** The `Bearer` challenge, whose `error` repeats the body's. */
  readonly challenge: AuthChallenge | null;

  constructor(init: FerryErrorInit) {
    super(init);
    this.challenge = init.wwwAuthenticate ? parseChallenge(init.wwwAuthenticate) : null;
  }
}

/** Any other refused call: `not_found`, `invalid_request`, `slow_down`, `temporarily_unavailable`, `server_error`. */
export class FerryApiError extends FerryError {
  readonly kind = 'api';
}

/**
 * The user came back without a usable code (RFC 6749 §4.1.2.1): cancelled (`access_denied`), the
 * bank failed (`server_error`, `temporarily_unavailable`), or the callback is not this browser's
 * (`state_mismatch`, `issuer_mismatch`).
 */
export class FerryAuthorizationError extends FerryError {
  readonly kind = 'authorization';
  /** The `state` the callback carried, if any. */
  readonly state: string | null;

  constructor(init: FerryErrorInit & { state?: string | null }) {
    super(init);
    this.state = init.state ?? null;
  }
}

/** No HTTP answer at all; `cause` has fetch's own error. */
export class FerryNetworkError extends FerryError {
  readonly kind = 'network';
}

/** Narrows to a FerryError, optionally of one code: `if (isFerryError(e, 'invalid_token')) …`. */
export function isFerryError(value: unknown, code?: FerryErrorCode): value is FerryError {
  return value instanceof FerryError && (code === undefined || value.error === code);
}

/** Reads the first challenge of a `WWW-Authenticate` value (Ferry sends one). */
export function parseChallenge(header: string): AuthChallenge | null {
  const match = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+(.*))?$/s.exec(header);
  if (match === null) return null;
  const params: Record<string, string> = {};
  const list = match[2] ?? '';
  const param = /([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  for (let m = param.exec(list); m !== null && m[0] !== ''; m = param.exec(list)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { scheme: match[1]!, params };
}

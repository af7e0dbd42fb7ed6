import { FerryApiError, FerryBearerError, FerryNetworkError, FerryOAuthError, type FerryError, type FerryErrorInit } from './errors.js';
import type { HttpMethod, JsonRequestBody, Operation, PathParams, PathsWith, QueryParams, SuccessBody } from './types.js';

/** The part of `fetch` the client uses: pass your own to add logging, a proxy, or an in-process transport. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type Credentials =
  | { kind: 'none' }
  | { kind: 'bearer'; accessToken: string }
  /** The app's client id and secret as HTTP Basic (RFC 7617; RFC 6749 §2.3.1). */
  | { kind: 'basic'; clientId: string; clientSecret: string };

/**
 * How a refusal is reported: the token endpoint's errors are RFC 6749 §5.2 (`oauth`), the data
 * API's 401/403 are RFC 6750 (`bearer`), and the app endpoints' 401 is the client's credentials (`app`).
 */
export type ErrorStyle = 'oauth' | 'bearer' | 'app' | 'plain';

export interface CallOptions<Op> {
  credentials: Credentials;
  errors: ErrorStyle;
  path?: PathParams<Op>;
  query?: QueryParams<Op>;
  body?: JsonRequestBody<Op>;
}

/** An operation whose document has no JSON success answer cannot be called: its type would be `never`, which fits anything. */
type CallableOptions<Op> = [SuccessBody<Op>] extends [never] ? { 'the OpenAPI document has no JSON success answer for this operation': never } : CallOptions<Op>;

/**
 * Ferry's API as the OpenAPI document describes it: `call('get', '/v1/accounts/{accountId}', …)`
 * only compiles for a path and method the document has, with its parameters, and returns the
 * document's answer type. A path the server drops or renames is a compile error in the client.
 */
export class FerryHttp {
  constructor(
    readonly baseUrl: string,
    private readonly fetch: FetchLike,
    private readonly timeoutMs: number | null,
  ) {}

  url<M extends HttpMethod, P extends PathsWith<M>>(_method: M, path: P, params: { path?: PathParams<Operation<P, M>>; query?: QueryParams<Operation<P, M>> } = {}): URL {
    const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = (params.path as Record<string, unknown> | undefined)?.[name];
      // An empty id would turn /v1/accounts/{accountId} into /v1/accounts/, another route.
      if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string.`);
      return encodeURIComponent(value);
    });
    const url = new URL(`${this.baseUrl}${filled}`);
    for (const [name, value] of Object.entries((params.query ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url;
  }

  async call<M extends HttpMethod, P extends PathsWith<M>>(method: M, path: P, callable: CallableOptions<Operation<P, M>>): Promise<SuccessBody<Operation<P, M>>> {
    const options = callable as unknown as CallOptions<Operation<P, M>>;
    const operation = `${method.toUpperCase()} ${path}`;
    const url = this.url(method, path, options as { path?: PathParams<Operation<P, M>>; query?: QueryParams<Operation<P, M>> });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.credentials.kind === 'bearer') headers.authorization = `Bearer ${options.credentials.accessToken}`;
    if (options.credentials.kind === 'basic') headers.authorization = basicAuthorization(options.credentials.clientId, options.credentials.clientSecret);
    const init: RequestInit = { method: method.toUpperCase(), headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (this.timeoutMs !== null) init.signal = AbortSignal.timeout(this.timeoutMs);

    let response: Response;
    try {
      response = await this.fetch(url.toString(), init);
    } catch (cause) {
      throw new FerryNetworkError({ error: 'network_error', errorDescription: describeCause(cause), operation, cause });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) {
      try {
        return JSON.parse(text) as SuccessBody<Operation<P, M>>;
      } catch {
        throw new FerryApiError({ error: 'invalid_response', errorDescription: `The answer (${response.status}) is not JSON.`, status: response.status, operation });
      }
    }
    throw errorFor(response, text, options.errors, operation);
  }
}

/** The `Authorization` value of HTTP Basic client authentication. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  // Aiia's own samples (and Ferry) read the id and secret as ISO-8859-1 text; RFC 6749 §2.3.1
  // form-encodes them first, which Ferry also accepts: used only when Latin-1 cannot hold them.
  const latin1 = (s: string) => /^[\u0000-\u00ff]*$/.test(s);
  const pair = latin1(clientId) && latin1(clientSecret) ? `${clientId}:${clientSecret}` : `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${btoa(pair)}`;
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function errorFor(response: Response, text: string, style: ErrorStyle, operation: string): FerryError {
  let body: { error?: unknown; error_description?: unknown } | null;
  try {
    const parsed: unknown = JSON.parse(text);
    body = typeof parsed === 'object' && parsed !== null ? (parsed as { error?: unknown; error_description?: unknown }) : null;
  } catch {
    body = null;
  }
  const status = response.status;
  const init: FerryErrorInit = {
    error: typeof body?.error === 'string' ? body.error : status >= 500 ? 'server_error' : 'invalid_response',
    errorDescription: typeof body?.error_description === 'string' ? body.error_description : body === null ? `HTTP ${status} without a JSON error body.` : null,
    status,
    operation,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    retryAfter: parseRetryAfter(response.headers.get('retry-after')),
  };
  if (style === 'oauth' || (style === 'app' && status === 401)) return new FerryOAuthError(init);
  if (style === 'bearer' && (status === 401 || status === 403)) return new FerryBearerError(init);
  return new FerryApiError(init);
}

/** RFC 9110 §10.2.3: seconds, or an HTTP date. */
function parseRetryAfter(value: string | null): number | null {
  if (value === null) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message;
  }
  return String(cause);
}

import type { FastifyInstance } from 'fastify';
import type { FetchLike } from '../../packages/client/src/client/index.js';

/** Statuses whose answer has no body (RFC 9110 §6.4.1): a fetch `Response` refuses one. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for @ferry/client that hands requests for `origin` to this Ferry's own routes through
 * Fastify's `inject`, for the demo app that runs inside the server it calls.
 *
 * Calling itself over the network would need the process to reach its own PUBLIC_URL (not true
 * behind a proxy, on a cluster worker's shared port, or before `listen`, as in tests) and would
 * spend a socket per call. Through `inject` every request still passes the whole HTTP pipeline:
 * routing, hooks, rate limits, the error handler, the serializers. The client above it is the
 * same code an app runs against a remote Ferry; only the transport differs.
 */
export function injectFetch(app: FastifyInstance, origin: string): FetchLike {
  const base = new URL(origin);
  // A PUBLIC_URL with a path (a proxy that strips it) names routes Fastify serves at the root.
  const prefix = base.pathname.replace(/\/+$/, '');
  return async (url, init) => {
    const target = new URL(url);
    if (target.origin !== base.origin || !target.pathname.startsWith(`${prefix}/`)) throw new TypeError(`injectFetch only reaches ${origin}, not ${target.origin}${target.pathname}.`);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const response = await app.inject({
      method: (init.method ?? 'GET') as 'GET' | 'POST' | 'DELETE',
      url: `${target.pathname.slice(prefix.length)}${target.search}`,
      headers,
      ...(typeof init.body === 'string' ? { payload: init.body } : {}),
    });
    const answer = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) answer.append(name, String(v));
    }
    return new Response(NULL_BODY_STATUSES.has(response.statusCode) ? null : new Uint8Array(response.rawPayload), { status: response.statusCode, headers: answer });
  };
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BearerTokenMissing, InvalidRedirectUri, InvalidToken, NotFound, OAuthError, UnknownClient } from '../errors.js';
import { resolveCulture } from '../i18n/culture.js';
import { BasicAuthFailed } from '../oauth/client-auth.js';
import { renderErrorPage, type ErrorPageKind } from './error-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Browser-facing routes answer errors with a page in the user's language. */
    html?: boolean;
    /** Which rate limit the route falls under. */
    rateLimitScope?: 'token' | 'connect' | 'flow';
  }
}

/**
 * The one error handler: 5xx are logged with a stack (4xx go in the request's log line); API clients get an
 * RFC 6749 / 6750 JSON body, browsers a page in their language. Never a stack trace in a response.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const { status, body } = classify(error);
    if (status === 503) {
      request.log.warn({ err: { message: error.message, code: (error as { code?: unknown }).code } }, isDatabaseUnavailable(error) ? 'database unavailable' : 'temporarily unavailable');
      reply.header('retry-after', '5');
    } else if (status >= 500) request.log.error({ err: error }, 'request failed');
    // A refusal (4xx) is in the request's one log line (src/http/request-log.ts).

    if (wantsHtml(request)) return sendPage(request, reply, status, pageKind(error, status));

    if (error instanceof BasicAuthFailed) reply.header('www-authenticate', 'Basic realm="Ferry", charset="UTF-8"');
    if (error instanceof BearerTokenMissing) {
      // RFC 6750 §3.1: no token at all, so no error code in the challenge.
      reply.header('www-authenticate', 'Bearer realm="Ferry"');
    } else if (error instanceof InvalidToken || (error instanceof OAuthError && error.error === 'insufficient_scope')) {
      // RFC 6750 §3: the challenge carries the error code.
      reply.header('www-authenticate', `Bearer realm="Ferry", error="${body.error}", error_description="${challengeText(body.error_description)}"`);
    }
    if (request.url.startsWith('/v1/oauth/')) reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    if (wantsHtml(request)) return sendPage(request, reply, 404, 'notFound');
    return reply.code(404).send({ error: 'not_found', error_description: `No route ${request.method} ${request.url.split('?')[0]}.` });
  });
}

/**
 * A description as an auth-param's quoted string (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E): the
 * typographic characters of Ferry's texts spelled in ASCII, anything else outside that range left out.
 */
function challengeText(text: string): string {
  return text
    .replace(/…/g, '...')
    .replace(/[‘’]/g, "'")
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** Errors that mean the database is away for a moment (restarting, unreachable, locked), not a bug. */
const DATABASE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'SQLITE_BUSY']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && DATABASE_UNAVAILABLE.has(e.code)) return true;
  return typeof e?.message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message);
}

function classify(error: FastifyError | Error): { status: number; body: { error: string; error_description: string } } {
  if (isDatabaseUnavailable(error)) {
    return { status: 503, body: { error: 'temporarily_unavailable', error_description: 'Ferry cannot reach its database right now; retry in a few seconds.' } };
  }
  if (error instanceof OAuthError) return { status: error.status, body: { error: error.error, error_description: error.description } };
  if (error instanceof NotFound) return { status: 404, body: { error: 'not_found', error_description: error.description } };
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: { error: status === 429 ? 'slow_down' : 'invalid_request', error_description: describeClientError(fastifyError) } };
  }
  return { status: 500, body: { error: 'server_error', error_description: 'An unexpected error occurred; it has been logged.' } };
}

function describeClientError(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is too large.';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is empty: send a JSON object.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type.';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Content-Length does not match the body.';
    case 'FST_ERR_VALIDATION':
      return `Invalid request: ${error.message}`;
    default:
      return error.statusCode === 429 ? 'Too many requests: slow down and retry later.' : error.message;
  }
}

function pageKind(error: Error, status: number): ErrorPageKind {
  if (error instanceof UnknownClient) return 'unknownClient';
  if (error instanceof InvalidRedirectUri) return 'invalidRedirectUri';
  if (status === 404) return 'notFound';
  if (status === 429) return 'tooManyRequests';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'serverError';
  return 'badRequest';
}

function wantsHtml(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.html === true) return true;
  if (request.url.startsWith('/v1/') || request.url.startsWith('/v2/') || request.url.startsWith('/.well-known/')) {
    return request.url.startsWith('/v1/oauth/connect') && request.method === 'GET';
  }
  return (request.headers.accept ?? '').includes('text/html');
}

function sendPage(request: FastifyRequest, reply: FastifyReply, status: number, kind: ErrorPageKind) {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const culture = resolveCulture(typeof query.culture === 'string' ? query.culture : null, request.headers['accept-language']);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(renderErrorPage(culture, kind, request.id));
}

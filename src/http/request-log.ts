import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the request was refused, for its log line. */
    refusal?: { type: string; error?: string; detail: string };
  }
}

/** An error that carries the OAuth error it stands for (the connect endpoint's redirectable refusals). */
function oauthErrorOf(error: Error): OAuthError | undefined {
  if (error instanceof OAuthError) return error;
  const wrapped = (error as { oauthError?: unknown }).oauthError;
  return wrapped instanceof OAuthError ? wrapped : undefined;
}

/**
 * One log line per request (DESIGN: one JSON line per request, with its id), for every route:
 * Fastify's own request logging is off (`disableRequestLogging`), which wrote two lines
 * (`incoming request`, `request completed`), and the error handler wrote a third for a refusal.
 * Each line, with its redaction, cost about 5 % of a small request's CPU (bench/RESULTS.md, data
 * API and hosted flow). The line has the request (method, redacted URL, address), the status,
 * the time taken and, for a refusal, why. 5xx are still logged with their stack by the error
 * handler.
 */
export function installRequestLog(app: FastifyInstance): void {
  // The line's fields are fixed: the request as the logger's serializer writes it (query values
  // masked, no headers, no body), a status, a time, and an error's type and public detail. The
  // logger's wildcard redaction list (src/logger.ts), which guards free-form objects, has nothing
  // to find in it and costs ~12 µs a line (@pinojs/redact clones and walks every field for each
  // of its paths): this line keeps only the header paths, should headers ever be added.
  const log = app.log.child({}, { redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' } });
  // Callback hooks, not async ones: no promise per request for work that never waits.
  app.addHook('onError', (request, _reply, error, done) => {
    const oauth = oauthErrorOf(error);
    request.refusal = {
      type: error.name,
      ...(oauth !== undefined ? { error: oauth.error } : {}),
      detail: (oauth !== undefined ? (oauth.detail ?? oauth.description) : undefined) ?? error.message,
    };
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const fields = { reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    if (request.refusal !== undefined && reply.statusCode < 500) log.info({ ...fields, err: request.refusal }, 'request completed');
    else log.info(fields, 'request completed');
    done();
  });
}

import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the request was refused, for its log line. */
    refusal?: { type: string; error?: string; detail: string };
  }
}

/**
 * One log line per data API request (DESIGN: one JSON line per request, with its id), where
 * Fastify writes two (`incoming request`, `request completed`) and the error handler a third for
 * a refusal. The data API answers thousands of requests a second; each line, with its redaction,
 * cost about 5 % of a request's CPU. The line has the request (method, redacted URL, address),
 * the status, the time taken and, for a refusal, why. 5xx are still logged with their stack by
 * the error handler (at error, which the route level lets through).
 */
export function logOneLinePerRequest(app: FastifyInstance): void {
  // The line's fields are fixed: the request as the logger's serializer writes it (query values
  // masked, no headers, no body), a status, a time, and an error's type and public detail. The
  // logger's wildcard redaction list (src/logger.ts), which guards free-form objects, has nothing
  // to find in it and costs ~12 µs a line (@pinojs/redact clones and walks every field for each
  // of its paths): this line keeps only the header paths, should headers ever be added.
  const log = app.log.child({}, { redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' } });
  app.addHook('onRoute', (route) => {
    // Unset, a route's level is '' (the server's).
    if (!route.logLevel) route.logLevel = 'warn';
  });
  // Callback hooks, not async ones: no promise per request for work that never waits.
  app.addHook('onError', (request, _reply, error, done) => {
    request.refusal = { type: error.name, ...(error instanceof OAuthError ? { error: error.error } : {}), detail: (error instanceof OAuthError ? error.detail : undefined) ?? error.message };
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const fields = { reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    if (request.refusal !== undefined && reply.statusCode < 500) log.info({ ...fields, err: request.refusal }, 'request completed');
    else log.info(fields, 'request completed');
    done();
  });
}

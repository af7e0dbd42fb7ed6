import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
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

/**
 * `request.log`, made a pino child (with the request's `reqId`) only when the request first
 * logs through it: most requests never do (their one line is the request log above, which names
 * its request itself), and a child is ~2 µs a request of bindings serialised for nothing. Routes
 * with a log level or serializers of their own get the real child at once (Fastify passes them
 * in `options`).
 */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options);
  return new LazyRequestLogger(logger, bindings) as unknown as FastifyBaseLogger;
}

type LogArguments = [unknown, ...unknown[]];

class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: LogArguments): void {
    (this.real.fatal as (...a: LogArguments) => void)(...args);
  }

  error(...args: LogArguments): void {
    (this.real.error as (...a: LogArguments) => void)(...args);
  }

  warn(...args: LogArguments): void {
    (this.real.warn as (...a: LogArguments) => void)(...args);
  }

  info(...args: LogArguments): void {
    (this.real.info as (...a: LogArguments) => void)(...args);
  }

  debug(...args: LogArguments): void {
    (this.real.debug as (...a: LogArguments) => void)(...args);
  }

  trace(...args: LogArguments): void {
    (this.real.trace as (...a: LogArguments) => void)(...args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return ((this.made ?? this.parent) as Logger).isLevelEnabled(level);
  }
}

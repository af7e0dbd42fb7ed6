import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every answer (DESIGN: strict CSP without inline script or style, no framing,
 * no referrer). HSTS only when Ferry's public URL is https, where it means something.
 */
export function installSecurityHeaders(app: FastifyInstance, options: { https: boolean }): void {
  const csp = contentSecurityPolicy();
  // A callback hook, not an async one: no promise per request for work that never waits.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    const type = reply.getHeader('content-type');
    // A route may set a policy of its own (only ever as strict, e.g. one more image origin).
    if (typeof type === 'string' && type.startsWith('text/html') && !reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp);
    if (options.https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    done(null, payload);
  });
}

/**
 * Ferry's policy for HTML pages. `imgOrigins` adds image sources: the hosted flow shows an app's
 * registered https logo, and nothing else from outside.
 */
export function contentSecurityPolicy(options: { imgOrigins?: readonly string[] } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ['img-src', "'self'", 'data:', ...(options.imgOrigins ?? [])].join(' '),
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self' http: https:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

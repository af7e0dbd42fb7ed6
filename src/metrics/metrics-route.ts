import type { FastifyInstance } from 'fastify';
import { constantTimeEqual } from '../crypto.js';
import type { FerryMetrics } from './metrics.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * GET /metrics (Prometheus). Not for the public: with `FERRY_METRICS_TOKEN` set it needs
 * `Authorization: Bearer <token>`; without it, only loopback clients get an answer (a scraper on
 * the same host, or behind the operator's own network). Everyone else sees a plain 404.
 */
export async function metricsRoute(app: FastifyInstance, options: { metrics: FerryMetrics; token: string | null }): Promise<void> {
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    const allowed =
      options.token === null
        ? LOOPBACK.has(request.ip)
        : constantTimeEqual(request.headers.authorization ?? '', `Bearer ${options.token}`);
    if (!allowed) return reply.callNotFound();
    const { contentType, body } = await options.metrics.render();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}

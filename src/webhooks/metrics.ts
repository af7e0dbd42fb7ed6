import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { webhookMetrics } from './deliveries.js';
import type { AttemptKind } from './sender.js';

/**
 * Webhook metrics for /metrics: tries by outcome (a counter per process), and the queue read from
 * the shared database when scraped (deliveries by status, due now, oldest undelivered age), so
 * every process reports the same truth (`aggregator: 'max'` under --workers).
 */
export function registerWebhookMetrics(registry: Registry, deps: { db: Kysely<Database>; clock: Clock }): { attempt(kind: AttemptKind): void } {
  const registers = [registry];
  const attempts = new Counter({
    name: 'ferry_webhook_attempts_total',
    help: 'Webhook tries by outcome: delivered (200), status (any other answer), timeout, network, refused (SSRF guard)',
    labelNames: ['outcome'],
    registers,
  });
  const { db, clock } = deps;
  // One read per scrape, shared by the gauges below.
  let snapshot: { at: number; value: ReturnType<typeof webhookMetrics> } | null = null;
  const read = () => {
    const now = clock.now();
    if (snapshot === null || now - snapshot.at > 1000) snapshot = { at: now, value: webhookMetrics(db, now) };
    return snapshot.value;
  };
  new Gauge({
    name: 'ferry_webhook_deliveries',
    help: 'Webhook deliveries by status (pending, delivered, failed)',
    labelNames: ['status'],
    registers,
    aggregator: 'max',
    async collect() {
      const m = await read();
      for (const [status, n] of Object.entries(m.deliveries)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'ferry_webhook_queue_depth',
    help: 'Pending webhook deliveries due now and not yet taken by a worker',
    registers,
    aggregator: 'max',
    async collect() {
      this.set((await read()).due);
    },
  });
  new Gauge({
    name: 'ferry_webhook_oldest_undelivered_age_seconds',
    help: 'Age of the oldest webhook delivery not yet delivered or failed (0 when none)',
    registers,
    aggregator: 'max',
    async collect() {
      this.set((await read()).oldestUndeliveredAgeSeconds);
    },
  });
  return { attempt: (kind) => attempts.inc({ outcome: kind }) };
}

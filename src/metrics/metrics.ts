import cluster from 'node:cluster';
import type { Kysely } from 'kysely';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../clock.js';
import { retentionStats } from '../consents/retention.js';
import type { Database } from '../db/schema.js';

export type FlowEvent = 'started' | 'completed' | 'abandoned';

/**
 * Ferry's Prometheus metrics. Counters and histograms are kept per process (and summed across
 * `--workers` by the primary); the gauges that describe shared state (job queue, deletion lag)
 * are read from the database when scraped, so every process reports the same truth.
 */
export class FerryMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly flows: Counter<'event' | 'step'>;
  readonly tokenGrants: Counter<'grant_type' | 'outcome'>;
  readonly syncDuration: Histogram<'outcome'>;

  constructor(deps: { db: Kysely<Database>; clock: Clock; extraGauges?: (registry: Registry) => void }) {
    const registers = [this.registry];
    // With --workers, the primary's AggregatorRegistry asks each worker for this registry.
    // (Constructing one is what makes prom-client answer the primary's requests in a worker.)
    if (cluster.isWorker) {
      AggregatorRegistry.setRegistries([this.registry]);
      new AggregatorRegistry();
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'ferry_process_' });
    this.httpDuration = new Histogram({
      name: 'ferry_http_request_duration_seconds',
      help: 'HTTP request durations by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.flows = new Counter({ name: 'ferry_flows_total', help: 'Hosted flows started, completed (back to the app with a code) and abandoned, by step', labelNames: ['event', 'step'], registers });
    this.tokenGrants = new Counter({ name: 'ferry_token_grants_total', help: 'Token endpoint requests by grant type and outcome', labelNames: ['grant_type', 'outcome'], registers });
    this.syncDuration = new Histogram({
      name: 'ferry_sync_duration_seconds',
      help: 'Duration of consent syncs',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    const { db, clock } = deps;
    new Gauge({
      name: 'ferry_jobs_queued',
      help: 'Jobs waiting or running, by kind and status',
      labelNames: ['kind', 'status'],
      registers,
      // Read from the shared database: every worker reports the same value, so take one, not the sum.
      aggregator: 'max',
      async collect() {
        this.reset();
        const rows = await db.selectFrom('jobs').select(['kind', 'status', (eb) => eb.fn.countAll<number>().as('n')]).where('status', 'in', ['pending', 'running']).groupBy(['kind', 'status']).execute();
        for (const row of rows) this.set({ kind: row.kind, status: row.status }, Number(row.n));
      },
    });
    new Gauge({
      name: 'ferry_deletion_lag_seconds',
      help: 'How long the oldest one-time consent past its deadline has waited to be erased (0 when none)',
      registers,
      aggregator: 'max',
      async collect() {
        this.set((await retentionStats(db, clock.now())).deletionLagMs / 1000);
      },
    });
    deps.extraGauges?.(this.registry);
  }

  flowEvent(event: FlowEvent, step: string, count = 1): void {
    this.flows.inc({ event, step }, count);
  }

  /** This process's metrics, or with `--workers` all workers' metrics summed by the primary. */
  async render(): Promise<{ contentType: string; body: string }> {
    if (cluster.isWorker && process.send !== undefined) return requestClusterMetrics(this.registry);
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

const REQUEST = 'ferry:metrics:request';
const RESPONSE = 'ferry:metrics:response';

function requestClusterMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  const id = `${process.pid}-${Date.now()}-${Math.random()}`;
  return new Promise((resolve) => {
    const timer = setTimeout(async () => {
      process.off('message', onMessage);
      resolve({ contentType: registry.contentType, body: await registry.metrics() });
    }, 5000);
    const onMessage = (message: unknown) => {
      const m = message as { type?: string; id?: string; body?: string };
      if (m?.type !== RESPONSE || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve({ contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE, body: m.body ?? '' });
    };
    process.on('message', onMessage);
    process.send!({ type: REQUEST, id });
  });
}

/** In the `--workers` primary: answers a worker's request with every worker's metrics, summed. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== REQUEST) return;
    aggregator
      .clusterMetrics()
      .then((body) => worker.send({ type: RESPONSE, id: message.id, body }))
      .catch(() => worker.send({ type: RESPONSE, id: message.id, body: '' }));
  });
}

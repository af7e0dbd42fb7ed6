/**
 * Benchmark of webhook delivery (issue 7).
 *
 *   npx tsx bench/webhooks/run.ts            # SQLite (the target), and PostgreSQL when reachable
 *   BENCH_DIALECTS=sqlite npx tsx bench/webhooks/run.ts
 *
 * 1. Deliveries per second: N events queued in a SQLite file (WAL, as `ferry start` runs it), one
 *    dispatcher with the defaults of `ferry start` (64 tries in flight), signed with a secret, to a
 *    node:http receiver in another process on loopback that answers 200. Target: 2,000/s.
 * 2. Added cost to the request that caused the event: the transaction a request runs (an UPDATE
 *    plus `recordEvent`), timed with the delivery row (the app has a webhook URL) and against the
 *    outbox before webhooks (the `events` INSERT alone). Target: under 1 ms.
 *
 * Bounded: fixed counts, each phase capped at 60 s. Exits non-zero when a target is missed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { createApp } from '../../src/apps/apps.js';
import { systemClock } from '../../src/clock.js';
import type { DatabaseConfig } from '../../src/config.js';
import { newId } from '../../src/crypto.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import { recordEvent } from '../../src/events/outbox.js';
import { createLogger } from '../../src/logger.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { webhookMetrics } from '../../src/webhooks/deliveries.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RECORD_ROUNDS = Number(process.env.BENCH_RECORD_ROUNDS ?? 5_000);
const PHASE_CAP_MS = 60_000;
const TARGET_PER_SECOND = 2_000;
const TARGET_ADDED_MS = 1;
const POSTGRES_URL = process.env.FERRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
const silent = createLogger('silent') as unknown as FastifyBaseLogger;

interface Opened {
  database: FerryDatabase;
  drop(): Promise<void>;
}

async function open(dialect: string): Promise<Opened | null> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-webhooks-'));
    const config: DatabaseConfig = { dialect: 'sqlite', file: path.join(dir, 'ferry.sqlite') };
    const database = await openDatabase(config);
    await migrateOrThrow(database);
    return { database, drop: async () => { await database.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `ferry_bench_${Date.now().toString(36)}`;
  try {
    const database = await openDatabase({ dialect: 'postgres', url: POSTGRES_URL, poolSize: 10 }, { schema });
    await migrateOrThrow(database);
    return {
      database,
      drop: async () => {
        await database.close();
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      },
    };
  } catch (error) {
    console.log(`PostgreSQL at ${POSTGRES_URL} not reachable (${(error as Error).message}): skipped`);
    return null;
  }
}

/** The receiver runs in its own process, as a real app's would: it must not share Ferry's event loop. */
async function startReceiver(): Promise<{ url: string; count(): Promise<number>; stop(): void }> {
  const child: ChildProcess = fork(path.join(HERE, 'receiver.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { port: number }).port)));
  return {
    url: `http://127.0.0.1:${port}/hooks/aiia`,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { count: number }).count));
        child.send('count');
      }),
    stop: () => child.kill(),
  };
}

async function queueEvents(db: Kysely<Database>, appId: string, count: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < count; i += 1000) {
    await db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(count, i + 1000); j++) {
        await recordEvent(trx, { appId, consentId: newId(), event: 'SyncDone', data: { syncedAccountIds: [newId(), newId()] }, now });
      }
    });
  }
}

async function deliveriesPerSecond(opened: Opened, receiverUrl: string): Promise<{ perSecond: number; delivered: number; seconds: number }> {
  const { database } = opened;
  const { app } = await createApp(database.db, systemClock, { name: 'Bench', redirectUris: ['https://bench.example.com/cb'], webhookUrl: receiverUrl, webhookSecret: 'whsec_bench' });
  await queueEvents(database.db, app.id, EVENTS);
  const dispatcher = new WebhookDispatcher({ database, clock: systemClock, logger: silent, policy: { allowPrivate: false, allowLoopback: true }, timeoutMs: 10_000 });
  const started = performance.now();
  dispatcher.start();
  let delivered = 0;
  while (performance.now() - started < PHASE_CAP_MS) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    delivered = (await webhookMetrics(database.db, Date.now())).deliveries.delivered;
    if (delivered >= EVENTS) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.stop();
  const failedTries = dispatcher.counters.status + dispatcher.counters.network + dispatcher.counters.timeout + dispatcher.counters.refused;
  if (failedTries > 0) console.log(`  (${failedTries} failed tries during the run: ${JSON.stringify(dispatcher.counters)})`);
  return { perSecond: delivered / seconds, delivered, seconds };
}

interface Timing {
  meanUs: number;
  medianUs: number;
  p95Us: number;
  p99Us: number;
}

function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { meanUs: (sorted.reduce((a, b) => a + b, 0) / sorted.length) * 1000, medianUs: at(0.5) * 1000, p95Us: at(0.95) * 1000, p99Us: at(0.99) * 1000 };
}

/** The outbox as it was before webhooks: the event row alone (the baseline the added cost is measured against). */
async function recordEventOnly(trx: Kysely<Database>, appId: string, now: number): Promise<void> {
  await trx.insertInto('events').values({ id: newId(), app_id: appId, consent_id: 'c', event: 'SyncDone', data: '{"syncedAccountIds":["a"]}', created_at: now }).execute();
}

async function recordingCost(opened: Opened): Promise<{ baseline: Timing; noUrl: Timing; withUrl: Timing; addedMedianUs: number; addedMeanUs: number }> {
  const { database } = opened;
  const db = database.db;
  const { app: hooked } = await createApp(db, systemClock, { name: 'Hooked', redirectUris: ['https://bench.example.com/cb'], webhookUrl: 'https://hooks.example.com/aiia', webhookSecret: 's' });
  const { app: plain } = await createApp(db, systemClock, { name: 'Plain', redirectUris: ['https://bench.example.com/cb'] });
  // A request's own change: one row it updates in the same transaction as the event.
  await db.insertInto('settings').values({ key: 'bench', value: '0' }).execute();
  const variants: Record<'baseline' | 'noUrl' | 'withUrl', (trx: Kysely<Database>, i: number) => Promise<unknown>> = {
    baseline: (trx) => recordEventOnly(trx, hooked.id, Date.now()),
    noUrl: (trx) => recordEvent(trx, { appId: plain.id, consentId: 'c', event: 'SyncDone', data: { syncedAccountIds: ['a'] }, now: Date.now() }),
    withUrl: (trx) => recordEvent(trx, { appId: hooked.id, consentId: 'c', event: 'SyncDone', data: { syncedAccountIds: ['a'] }, now: Date.now() }),
  };
  const samples: Record<keyof typeof variants, number[]> = { baseline: [], noUrl: [], withUrl: [] };
  const deadline = performance.now() + PHASE_CAP_MS;
  for (let round = 0; round < RECORD_ROUNDS && performance.now() < deadline; round++) {
    // Interleaved, so drift (WAL growth, checkpoints, the JIT) touches every variant alike.
    for (const name of Object.keys(variants) as Array<keyof typeof variants>) {
      const started = performance.now();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('settings').set({ value: String(round) }).where('key', '=', 'bench').execute();
        await variants[name](trx, round);
      });
      if (round >= 200) samples[name].push(performance.now() - started);
    }
  }
  const baseline = summarize(samples.baseline);
  const withUrl = summarize(samples.withUrl);
  return { baseline, noUrl: summarize(samples.noUrl), withUrl, addedMedianUs: withUrl.medianUs - baseline.medianUs, addedMeanUs: withUrl.meanUs - baseline.meanUs };
}

const fmt = (n: number) => n.toFixed(0);
let ok = true;
console.log(`Webhook delivery benchmark: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; ${EVENTS} events, ${RECORD_ROUNDS} recording rounds`);
const receiver = await startReceiver();
try {
  for (const dialect of dialects) {
    const opened = await open(dialect);
    if (opened === null) continue;
    try {
      const throughput = await deliveriesPerSecond(opened, receiver.url);
      const target = dialect === 'sqlite' ? TARGET_PER_SECOND : 0;
      console.log(`[${dialect}] delivered ${throughput.delivered} in ${throughput.seconds.toFixed(2)} s: ${fmt(throughput.perSecond)} deliveries/s${target ? ` (target ${target})` : ''}`);
      if (throughput.delivered < EVENTS || throughput.perSecond < target) ok = false;
    } finally {
      await opened.drop();
    }
    const fresh = await open(dialect);
    if (fresh === null) continue;
    try {
      const cost = await recordingCost(fresh);
      const line = (name: string, t: Timing) => `    ${name.padEnd(44)} mean ${fmt(t.meanUs)} µs  median ${fmt(t.medianUs)} µs  p95 ${fmt(t.p95Us)} µs  p99 ${fmt(t.p99Us)} µs`;
      console.log(`[${dialect}] a request's transaction (UPDATE + event), per variant:`);
      console.log(line('events row only (before webhooks)', cost.baseline));
      console.log(line('recordEvent, app without webhook URL', cost.noUrl));
      console.log(line('recordEvent + delivery row (webhook URL)', cost.withUrl));
      console.log(`[${dialect}] added cost of the delivery row: median ${fmt(cost.addedMedianUs)} µs, mean ${fmt(cost.addedMeanUs)} µs (target < ${TARGET_ADDED_MS * 1000} µs)`);
      if (cost.addedMedianUs >= TARGET_ADDED_MS * 1000 || cost.addedMeanUs >= TARGET_ADDED_MS * 1000) ok = false;
    } finally {
      await fresh.drop();
    }
  }
  console.log(`receiver counted ${await receiver.count()} requests`);
} finally {
  receiver.stop();
}
if (!ok) {
  console.log('A target was missed.');
  process.exitCode = 1;
}

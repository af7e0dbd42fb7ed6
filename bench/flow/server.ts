/**
 * The Ferry the hosted-flow benchmark drives (a child process of bench/flow/run.ts): the real
 * server over a fresh SQLite file, rate limits off, logging at info to /dev/null as in production.
 * Background work (the sync jobs each new consent queues, webhooks) is not started: the benchmark
 * measures the flow's pages, and the sync has its own benchmark.
 *
 * Prints one JSON line `{ "port", "clientId", "redirectUri" }` on stdout when it listens.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/apps/apps.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { buildServer } from '../../src/server.js';

const port = Number(process.env.PORT);
// FLOW_BENCH_WORKERS=N: N processes share the port and the SQLite file, as `ferry start --workers N`
// runs them (node:cluster; the primary prepares the database and only forwards connections).
const workers = Number(process.env.FLOW_BENCH_WORKERS ?? '1');
const config = (dir: string) =>
  loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    FERRY_DB_FILE: path.join(dir, 'ferry.sqlite'),
    FERRY_RATE_LIMITS: 'false',
    FERRY_DEMO: 'false',
    LOG_LEVEL: 'info',
  });
const redirectUri = 'http://localhost:9/callback';

if (cluster.isPrimary) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-flow-'));
  const database = await openDatabase(config(dir).database);
  await migrateOrThrow(database);
  const { app: registered } = await createApp(database.db, systemClock, { name: 'Bench App', redirectUris: [redirectUri], brandColor: '#0f766e' });
  const ready = `${JSON.stringify({ port, clientId: registered.id, redirectUri })}\n`;
  if (workers <= 1) {
    const stop = await serve(dir, database);
    process.stdout.write(ready);
    const end = async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    };
    process.once('SIGTERM', () => void end());
    process.once('SIGINT', () => void end());
  } else {
    await database.close();
    let listening = 0;
    cluster.on('listening', () => {
      if (++listening === workers) process.stdout.write(ready);
    });
    for (let i = 0; i < workers; i++) cluster.fork({ FLOW_BENCH_DIR: dir });
    const end = () => {
      let left = workers;
      cluster.on('exit', () => {
        if (--left > 0) return;
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    };
    process.once('SIGTERM', end);
    process.once('SIGINT', end);
  }
} else {
  const database = await openDatabase(config(process.env.FLOW_BENCH_DIR!).database);
  const stop = await serve(process.env.FLOW_BENCH_DIR!, database);
  const end = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void end());
  process.once('SIGINT', () => void end());
}

/** Serves Ferry on `database`; the function it returns stops it and prints the event loop's delays. */
async function serve(dir: string, database: FerryDatabase): Promise<() => Promise<void>> {
  const logger = createLogger('info', fs.createWriteStream('/dev/null'));
  const { app } = await buildServer({ config: config(dir), database, logger });
  await app.listen({ port, host: '127.0.0.1' });
  // How long the event loop was blocked at a time (GC, synchronous SQLite work): printed on exit.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  return async () => {
    loopDelay.disable();
    const q = (p: number) => (loopDelay.percentile(p) / 1e6).toFixed(1);
    process.stderr.write(`Ferry event-loop delay${workers > 1 ? ` (process ${process.pid})` : ''}: p50 ${q(50)} ms, p99 ${q(99)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms\n`);
    await app.close();
    await database.close();
  };
}

/**
 * The Ferry the hosted-flow benchmark drives (a child process of bench/flow/run.ts): the real
 * server over a fresh SQLite file, rate limits off, logging at info to /dev/null as in production.
 * Background work (the sync jobs each new consent queues, webhooks) is not started: the benchmark
 * measures the flow's pages, and the sync has its own benchmark.
 *
 * Prints one JSON line `{ "port", "clientId", "redirectUri" }` on stdout when it listens.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/apps/apps.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { buildServer } from '../../src/server.js';

const port = Number(process.env.PORT);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-flow-'));
const config = loadConfig({
  PORT: String(port),
  HOST: '127.0.0.1',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  FERRY_DB_FILE: path.join(dir, 'ferry.sqlite'),
  FERRY_RATE_LIMITS: 'false',
  FERRY_DEMO: 'false',
  LOG_LEVEL: 'info',
});
const database = await openDatabase(config.database);
await migrateOrThrow(database);
const redirectUri = 'http://localhost:9/callback';
const { app: registered } = await createApp(database.db, systemClock, { name: 'Bench App', redirectUris: [redirectUri], brandColor: '#0f766e' });
const logger = createLogger('info', fs.createWriteStream('/dev/null'));
const { app } = await buildServer({ config, database, logger });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port, clientId: registered.id, redirectUri })}\n`);

// How long the event loop was blocked at a time (GC, synchronous SQLite work): printed on exit.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

const stop = async () => {
  loopDelay.disable();
  const q = (p: number) => (loopDelay.percentile(p) / 1e6).toFixed(1);
  process.stderr.write(`Ferry event-loop delay: p50 ${q(50)} ms, p99 ${q(99)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms\n`);
  await app.close();
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

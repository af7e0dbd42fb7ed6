/**
 * The retention sweep's own thread (started by src/consents/sweep-thread.ts): its own connection
 * to the database, running the sweeps it is sent one at a time, batches and pauses. On SQLite its
 * synchronous DELETEs hold neither the serving thread nor its event loop; on PostgreSQL its round
 * trips (about 15 a batch) do not wait their turn in an event loop busy with requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { openDatabase, type OpenDatabaseOptions } from '../db/database.js';
import { eraseInBatches, type BatchPacing } from './sweep-batch.js';

export interface SweepWorkerData {
  /** SQLite: the file; PostgreSQL: the server, with a pool of its own (one connection is all a sweep uses). */
  config: DatabaseConfig;
  options: OpenDatabaseOptions;
  /** SQLite: this connection's page cache, MB: a batch's pages stay in memory until its commit rather than spill to the WAL. */
  cacheMb: number;
}

export type SweepRequest = { now: number; pacing: BatchPacing } | 'close';

const port = parentPort!;
const data = workerData as SweepWorkerData;
const database = await openDatabase(data.config, data.options);
if (data.config.dialect === 'sqlite') await sql.raw(`pragma cache_size = -${Math.round(data.cacheMb * 1024)}`).execute(database.db);
// PostgreSQL's pool connects on first use: connect now, so that a thread that cannot reach the
// database (max_connections reached, say) fails to start, and the sweep runs on the serving connection.
await database.ping();

port.postMessage('ready');
port.on('message', (request: SweepRequest) => {
  if (request === 'close') {
    void database.close().then(() => port.close());
    return;
  }
  const started = performance.now();
  const now = () => request.now + Math.round(performance.now() - started);
  eraseInBatches(database.db, database.capabilities, now, request.pacing).then(
    (result) => port.postMessage({ ok: true, result }),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } }),
  );
});

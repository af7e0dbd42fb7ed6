/**
 * The retention sweep's own thread on SQLite (started by src/consents/sweep-thread.ts): its own
 * connection to the database file, running the sweeps it is sent one at a time, batches and
 * pauses, so their synchronous DELETEs hold neither the serving thread nor its event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import { openDatabase } from '../db/database.js';
import { eraseInBatches, type BatchPacing } from './sweep-batch.js';

export interface SweepWorkerData {
  file: string;
  /** This connection's page cache, MB: a batch's pages stay in memory until its commit rather than spill to the WAL. */
  cacheMb: number;
}

export type SweepRequest = { now: number; pacing: BatchPacing } | 'close';

const port = parentPort!;
const data = workerData as SweepWorkerData;
const database = await openDatabase({ dialect: 'sqlite', file: data.file });
await sql.raw(`pragma cache_size = -${Math.round(data.cacheMb * 1024)}`).execute(database.db);

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

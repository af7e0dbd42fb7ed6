/**
 * The retention sweep's own thread on SQLite (started by src/consents/sweep-thread.ts): its own
 * connection to the database file, running the batches it is sent one at a time, so their
 * synchronous DELETEs hold neither the serving thread nor its event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
import { openDatabase } from '../db/database.js';
import { eraseExpiredBatch } from './sweep-batch.js';

export interface SweepWorkerData {
  file: string;
  /** Nice value of this thread (Linux): above the serving thread's, so the API comes first when both want a core. */
  nice: number;
  /** This connection's page cache, MB: a batch's pages stay in memory until its commit rather than spill to the WAL. */
  cacheMb: number;
}

export type SweepRequest = { now: number; limit: number } | 'close';

const port = parentPort!;
const data = workerData as SweepWorkerData;
lowerPriority(data.nice);
const database = await openDatabase({ dialect: 'sqlite', file: data.file });
await sql.raw(`pragma cache_size = -${Math.round(data.cacheMb * 1024)}`).execute(database.db);

port.on('message', (request: SweepRequest) => {
  if (request === 'close') {
    void database.close().then(() => port.close());
    return;
  }
  eraseExpiredBatch(database.db, database.capabilities, request.now, request.limit).then(
    (result) => port.postMessage({ ok: true, result }),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } }),
  );
});

/** setpriority(2) on this thread alone: on Linux a thread id names one thread (/proc/thread-self is `<pid>/task/<tid>`). */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, Math.max(os.getPriority(tid), nice));
  } catch {
    // Not Linux: the thread keeps the process's priority.
  }
}

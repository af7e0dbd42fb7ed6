import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/**
 * SQLite's WAL checkpoints, off the serving thread.
 *
 * By default the commit that takes the WAL past 1,000 pages runs the checkpoint itself: it copies
 * those pages into the database file and fsyncs it, synchronously, on the thread that serves
 * requests. Measured on the hosted-flow benchmark, that was half of what a commit cost (340 µs
 * against 171 µs without) and the event loop stood still while the disk synced. Here the serving
 * connection never checkpoints (`wal_autocheckpoint = 0`); a worker thread with a connection of its
 * own runs a PASSIVE checkpoint every {@link CHECKPOINT_INTERVAL_MS}, which waits for no reader or
 * writer (the serving thread goes on appending to the WAL meanwhile). SQLite starts the WAL from
 * its beginning again once a checkpoint has copied all of it, as with its own checkpoints.
 * Durability is unchanged: a commit is in the WAL before it is answered either way.
 *
 * The worker is plain JavaScript evaluated from a string: a worker thread does not inherit the
 * loader that runs Ferry's TypeScript. If it cannot start or fails, the connection checkpoints for
 * itself again, as SQLite does by default.
 */
export const CHECKPOINT_INTERVAL_MS = 200;
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file, { fileMustExist: true });
// Another checkpoint (another process's) in progress: skip this turn rather than wait.
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    if (error && error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') {
      clearInterval(timer);
      parentPort.postMessage({ failed: String(error && error.message) });
    }
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker (after its checkpoint in progress, if any). */
  stop(): Promise<void>;
}

/** Starts checkpointing `file` (the database `sqlite` has open) in a worker thread; undefined for an in-memory database. */
export function startCheckpointer(sqlite: SQLite.Database, file: string, onFailure: (message: string) => void = () => {}): Checkpointer | undefined {
  if (file === ':memory:' || file === '') return undefined;
  const fallBack = () => {
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  let worker: Worker;
  try {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file, intervalMs: CHECKPOINT_INTERVAL_MS } });
  } catch (error) {
    onFailure(error instanceof Error ? error.message : String(error));
    return undefined;
  }
  sqlite.pragma('wal_autocheckpoint = 0');
  worker.unref();
  let stopped = false;
  worker.on('message', (message: { failed?: string }) => {
    if (message.failed === undefined) return;
    fallBack();
    onFailure(message.failed);
  });
  worker.on('error', (error) => {
    fallBack();
    onFailure(error.message);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      if (stopped) return exited;
      stopped = true;
      worker.postMessage('stop');
      // A worker that does not end promptly (a checkpoint stuck on the disk) is ended.
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

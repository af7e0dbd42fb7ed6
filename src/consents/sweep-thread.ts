import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { DatabaseCapabilities, FerryDatabase } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { eraseInBatches, type BatchPacing, type BatchResult } from './sweep-batch.js';
import type { SweepRequest, SweepWorkerData } from './sweep-worker.js';

/** Runs the sweep's batches ({@link eraseInBatches}): on the caller's connection, or in a thread of their own. */
export interface SweepRunner {
  /** True when the batches run in their own thread (they hold neither the event loop nor the serving connection). */
  readonly threaded: boolean;
  run(clock: Clock, pacing: BatchPacing): Promise<BatchResult>;
  close(): Promise<void>;
}

/** See {@link SweepWorkerData}. */
export const SWEEP_THREAD_CACHE_MB = 64;
/** PostgreSQL: the thread's pool. A sweep runs its batches one after another, each in one transaction. */
const SWEEP_THREAD_POOL = 2;

export function inThreadRunner(db: Kysely<Database>, capabilities: DatabaseCapabilities): SweepRunner {
  return { threaded: false, run: (clock, pacing) => eraseInBatches(db, capabilities, () => clock.now(), pacing), close: async () => {} };
}

/**
 * Starts a thread with its own connection to the database (src/consents/sweep-worker.ts): the SQLite
 * file, or the PostgreSQL server with a pool of its own.
 * The thread runs the whole loop of batches and its pauses itself and answers once: driven from
 * here batch by batch, each batch waited for a turn of a busy event loop (tens of ms under load)
 * before the next could start. Its batches' time is the clock's time at the start plus the time
 * since (the clock cannot be asked from another thread).
 * Ferry runs TypeScript through tsx's loader (bin/ferry.js), which a worker thread does not
 * inherit: the thread registers it before it loads the sweep.
 */
export async function sweepThread({ config, options }: FerryDatabase['opened']): Promise<SweepRunner> {
  const entry = new URL('./sweep-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  const workerData: SweepWorkerData = { config: config.dialect === 'postgres' ? { ...config, poolSize: SWEEP_THREAD_POOL } : config, options, cacheMb: SWEEP_THREAD_CACHE_MB };
  const worker = new Worker(bootstrap, { eval: true, workerData });
  let pending: { resolve(result: BatchResult): void; reject(error: Error): void } | null = null;
  let failure: Error | null = null;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fail = (error: Error) => {
    failure ??= error;
    pending?.reject(error);
    pending = null;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the retention sweep's thread exited (code ${code})`)));
  // Started: its connection is open (or it failed first, and the caller sweeps on its own connection).
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', () => reject(new Error("the retention sweep's thread did not start")));
  });
  await ready;
  worker.on('message', (message: { ok: true; result: BatchResult } | { ok: false; error: { message: string; stack?: string } }) => {
    const settle = pending;
    pending = null;
    if (message.ok) settle?.resolve(message.result);
    else settle?.reject(Object.assign(new Error(message.error.message), { stack: message.error.stack }));
  });
  const send = (request: SweepRequest) => worker.postMessage(request);
  return {
    threaded: true,
    run(clock, pacing) {
      if (failure !== null) return Promise.reject(failure);
      if (pending !== null) return Promise.reject(new Error('one sweep at a time'));
      return new Promise<BatchResult>((resolve, reject) => {
        pending = { resolve, reject };
        send({ now: clock.now(), pacing });
      });
    },
    async close() {
      if (failure === null) send('close');
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

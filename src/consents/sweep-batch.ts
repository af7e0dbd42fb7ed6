import { sql, type Kysely } from 'kysely';
import type { DatabaseCapabilities } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { preserveClaimedData } from '../accounts/claim.js';
import { claimExpiredConsents, eraseConsents, type RowCounts } from './erase.js';

/** What one batch of the sweep did: consents erased, and their rows per table (summed over the receipts). */
export interface BatchResult {
  erased: number;
  rows: RowCounts;
  /** The earliest deadline among the batch's consents (null: none erased). */
  oldestDeadline?: number | null;
}

/**
 * One batch of the retention sweep, in one write transaction: claims up to `limit` consents past
 * their deadline, keeps what their users claimed (src/accounts/claim.ts), and erases them, each
 * with its receipt and `DataDeleted` event. Runs on the serving thread or in the sweep's own
 * thread (src/consents/sweep-thread.ts) alike.
 */
export async function eraseExpiredBatch(db: Kysely<Database>, capabilities: DatabaseCapabilities, now: number, limit: number): Promise<BatchResult> {
  return inWriteTransaction(db, capabilities, async (trx) => {
    const consents = await claimExpiredConsents(trx, capabilities, now, limit);
    // Claimed at step 5: the user's copy is kept before the app's consent is erased.
    await preserveClaimedData(trx, consents, now);
    const rows: RowCounts = {};
    for (const receipt of await eraseConsents(trx, capabilities, consents, 'OneTimeRetention', now)) {
      for (const [table, n] of Object.entries(JSON.parse(receipt.row_counts) as RowCounts)) rows[table] = (rows[table] ?? 0) + n;
    }
    const deadlines = consents.map((c) => Number(c.delete_at));
    return { erased: consents.length, rows, oldestDeadline: deadlines.length === 0 ? null : Math.min(...deadlines) };
  });
}

/** How {@link eraseInBatches} paces itself (see the constants of src/consents/retention.ts). */
export interface BatchPacing {
  /** Consents in the first batch. */
  firstBatch: number;
  /** Rows a batch aims at: the next batches take as many consents as make this many rows at the rows per consent seen so far. */
  batchRows: number;
  /** At most this many consents a batch. */
  maxBatch: number;
  /** The share of its time the loop spends inside batches: after a batch of d ms it waits d × (1 − share) / share. */
  busyShare: number;
  /**
   * Behind by more than this (a batch's earliest deadline this long ago), the loop does not wait
   * between batches: the deadline is the promise made to the user, the share only a courtesy to
   * the data API, and a sweeper that kept it under sustained load would fall further behind.
   */
  catchUpAfterMs: number;
  maxBatches: number;
  /** No batch starts after this long. */
  maxMs: number;
}

/**
 * Runs batches until one comes back short (nothing more is due), `maxBatches` have run or
 * `maxMs` have passed, pacing itself as `pacing` says; `now()` is each batch's time. Yields to
 * the event loop between batches, always: a Kysely transaction on SQLite runs in microtasks and
 * would otherwise hold the connection, and every request, for the whole sweep.
 */
export async function eraseInBatches(db: Kysely<Database>, capabilities: DatabaseCapabilities, now: () => number, pacing: BatchPacing): Promise<BatchResult> {
  const rows: RowCounts = {};
  let erased = 0;
  let erasedRows = 0;
  let batchSize = pacing.firstBatch;
  const loopStarted = performance.now();
  for (let batch = 0; batch < pacing.maxBatches; batch++) {
    const started = performance.now();
    const batchNow = now();
    const done = await eraseExpiredBatch(db, capabilities, batchNow, batchSize);
    for (const [table, n] of Object.entries(done.rows)) {
      rows[table] = (rows[table] ?? 0) + n;
      erasedRows += n;
    }
    erased += done.erased;
    if (done.erased < batchSize || performance.now() - loopStarted > pacing.maxMs) break;
    const tookMs = performance.now() - started;
    batchSize = Math.max(1, Math.min(pacing.maxBatch, Math.round(pacing.batchRows / Math.max(1, erasedRows / erased))));
    await pause(pauseAfterBatch(tookMs, done.oldestDeadline == null ? 0 : batchNow - done.oldestDeadline, pacing));
  }
  return { erased, rows };
}

/**
 * How long the loop waits after a batch that took `tookMs` and whose earliest deadline was
 * `lagMs` ago: d × (1 − share) / share, or nothing once it is behind by more than
 * `catchUpAfterMs` (see {@link BatchPacing}).
 */
export function pauseAfterBatch(tookMs: number, lagMs: number, pacing: Pick<BatchPacing, 'busyShare' | 'catchUpAfterMs'>): number {
  if (pacing.busyShare >= 1 || lagMs > pacing.catchUpAfterMs) return 0;
  return (tookMs * (1 - pacing.busyShare)) / pacing.busyShare;
}

/** Waits `ms` (a timer), or just lets the event loop turn once (0). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms >= 1 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

/**
 * PostgreSQL: a transaction (the claim locks its rows, FOR UPDATE SKIP LOCKED). SQLite: BEGIN
 * IMMEDIATE, the write lock before the claim reads: with a deferred BEGIN, a commit by another
 * connection (the serving thread's, while the sweep runs in its own) between the claim and the
 * first DELETE would fail the batch with SQLITE_BUSY, since a read snapshot cannot become a write.
 */
async function inWriteTransaction<T>(db: Kysely<Database>, capabilities: DatabaseCapabilities, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (capabilities.supportsSkipLocked) return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

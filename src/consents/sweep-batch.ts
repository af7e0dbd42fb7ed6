import { sql, type Kysely } from 'kysely';
import type { DatabaseCapabilities } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { preserveClaimedData } from '../accounts/claim.js';
import { claimExpiredConsents, eraseConsents, type RowCounts } from './erase.js';

/** What one batch of the sweep did: consents erased, and their rows per table (summed over the receipts). */
export interface BatchResult {
  erased: number;
  rows: RowCounts;
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
    return { erased: consents.length, rows };
  });
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

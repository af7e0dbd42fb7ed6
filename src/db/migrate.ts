import { sql, type Kysely, type Migration } from 'kysely';
import type { FerryDatabase } from './database.js';
import * as m001 from './migrations/001_foundation.js';
import * as m002 from './migrations/002_providers.js';
import * as m004 from './migrations/004_data.js';
import * as m005 from './migrations/005_webhooks.js';
import * as m006 from './migrations/006_retention.js';
import * as m007 from './migrations/007_rate_limits.js';
import * as m008 from './migrations/008_xs2a.js';
import * as m009 from './migrations/009_connection_status.js';
import * as m010 from './migrations/010_accounts.js';
import * as m011 from './migrations/011_portal.js';
import * as m012 from './migrations/012_events_created_at.js';
import * as m013 from './migrations/013_erasure_indexes.js';
import * as m015 from './migrations/015_sync_fence.js';
import * as m016 from './migrations/016_transactions_by_account.js';

/** Every migration, in order. The same files run on SQLite and PostgreSQL. */
export const MIGRATIONS: Record<string, Migration> = {
  '001_foundation': m001,
  '002_providers': m002,
  '004_data': m004,
  '005_webhooks': m005,
  '006_retention': m006,
  '007_rate_limits': m007,
  '008_xs2a': m008,
  '009_connection_status': m009,
  '010_accounts': m010,
  '011_portal': m011,
  '012_events_created_at': m012,
  '013_erasure_indexes': m013,
  '015_sync_fence': m015,
  '016_transactions_by_account': m016,
};

export interface MigrationResult {
  migrationName: string;
  status: 'Success' | 'Error' | 'NotExecuted';
}

export interface MigrationResultSet {
  error?: unknown;
  results: MigrationResult[];
}

const TABLE = 'ferry_migrations';
/** Any constant: the PostgreSQL advisory lock that makes one process migrate at a time. */
const ADVISORY_LOCK_KEY = 7_402_118;

/**
 * Brings the schema up to date, each migration in its own transaction, one process at a time
 * (an advisory lock on PostgreSQL; SQLite's write lock, taken at once with BEGIN IMMEDIATE).
 * Like Kysely's migrator it reports instead of throwing. Ferry keeps its own small migrator
 * because Kysely's looks for its bookkeeping tables across every schema of the database, which
 * is slow and racy when many Ferry deployments (or test runs) share one PostgreSQL server.
 */
export async function migrateToLatest(database: FerryDatabase): Promise<MigrationResultSet> {
  const { db } = database;
  const postgres = database.capabilities.dialect === 'postgres';
  const results: MigrationResult[] = [];
  try {
    await db.schema
      .createTable(TABLE)
      .ifNotExists()
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    for (const [name, migration] of Object.entries(MIGRATIONS).sort(([a], [b]) => a.localeCompare(b))) {
      const applied = await runInWriteTransaction(database, async (trx) => {
        if (postgres) await sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`.execute(trx);
        const done = await trx.selectFrom(TABLE as never).select(sql`name`.as('name')).where(sql`name`, '=', name).executeTakeFirst();
        if (done !== undefined) return false;
        await migration.up(trx);
        await sql`insert into ${sql.table(TABLE)} (name, applied_at) values (${name}, ${Date.now()})`.execute(trx);
        return true;
      }).catch((error: unknown) => {
        results.push({ migrationName: name, status: 'Error' });
        throw error;
      });
      if (applied) results.push({ migrationName: name, status: 'Success' });
    }
    return { results };
  } catch (error) {
    return { error, results };
  }
}

async function runInWriteTransaction<T>(database: FerryDatabase, fn: (trx: Kysely<any>) => Promise<T>): Promise<T> {
  if (database.capabilities.dialect === 'postgres') return database.db.transaction().execute(fn);
  // SQLite: take the write lock up front, so two processes starting together do not both migrate.
  return database.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/** Runs the migrations and throws with the failing migration's name when one fails (for start-up). */
export async function migrateOrThrow(database: FerryDatabase): Promise<string[]> {
  const { error, results } = await migrateToLatest(database);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'bookkeeping';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

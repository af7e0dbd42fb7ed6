import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { FerryDatabase } from './database.js';
import * as m001 from './migrations/001_foundation.js';
import * as m002 from './migrations/002_providers.js';
import * as m004 from './migrations/004_data.js';

/** Every migration, in order. The same files run on SQLite and PostgreSQL. */
export const MIGRATIONS: Record<string, Migration> = {
  '001_foundation': m001,
  '002_providers': m002,
  '004_data': m004,
};

/** Brings the schema up to date. Like Kysely's migrator it reports instead of throwing. */
export async function migrateToLatest(database: FerryDatabase): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => MIGRATIONS },
  });
  return migrator.migrateToLatest();
}

/** Runs the migrations and throws with the failing migration's name when one fails (for start-up). */
export async function migrateOrThrow(database: FerryDatabase): Promise<string[]> {
  const { error, results } = await migrateToLatest(database);
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

import type { Kysely } from 'kysely';

/**
 * Each transaction's answer as the data API writes it (src/data/serialize.ts `transactionJson`),
 * kept beside its columns when the sync inserts it: a page then reads one text a row instead of
 * fifteen values and writes no JSON (bench/RESULTS.md, data API). NULL means "write it from the
 * columns", which is what every row from before this migration, and every row a resync has
 * changed since, gets: an UPDATE of a transaction sets it to NULL rather than write it again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('transactions').addColumn('wire', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('transactions').dropColumn('wire').execute();
}

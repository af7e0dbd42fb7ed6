import type { Kysely } from 'kysely';

/** What is left of an erased consent: a receipt without personal data (issue #6). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deletion_receipts')
    .addColumn('consent_id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('one_time', 'integer', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('consent_created_at', 'bigint', (c) => c.notNull())
    /** The one-time deadline; null for a revoked regular consent. */
    .addColumn('deadline', 'bigint')
    .addColumn('erased_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    /** JSON: rows erased per table. */
    .addColumn('row_counts', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deletion_receipts_app').on('deletion_receipts').columns(['app_id', 'erased_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('deletion_receipts').ifExists().execute();
}

import type { Kysely } from 'kysely';

/**
 * The sandbox banks' own state, shared by every Ferry process: a decoupled login waiting for the
 * "phone" to approve it, and a redirect login between the bank's page and its authorization code.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sandbox_bank_logins')
    // SHA-256 of the random handle in the bank page's URL: the handle itself is never stored.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('culture', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text')
    .addColumn('state', 'text')
    .addColumn('code_hash', 'text')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('sandbox_bank_logins_expires_at').on('sandbox_bank_logins').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sandbox_bank_logins').ifExists().execute();
}

import type { Kysely } from 'kysely';

/**
 * Two syncs of one account at once (a job's lease that ran out while its sync still ran, a
 * `POST /v1/update` during one) are kept apart by a fencing token on the account
 * (`accounts.sync_fence`, src/data/sync.ts) instead of the unique index on
 * `(account_id, provider_transaction_id)`: a sync moves the token on before it reads what is
 * stored, and writes its new rows only while the token is still its own. The index took a sync's
 * rows in the bank's random id order, a quarter of the first sync's time on SQLite, and no query
 * reads by it (a sync matches the bank's ids in memory). (014 was the reverted `transactions.wire`.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('sync_fence', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.dropIndex('transactions_provider_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('transactions_provider_id').on('transactions').columns(['account_id', 'provider_transaction_id']).unique().execute();
  await db.schema.alterTable('accounts').dropColumn('sync_fence').execute();
}

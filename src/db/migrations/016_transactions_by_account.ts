import type { Kysely } from 'kysely';

/**
 * A consent's transactions are found through its accounts (the keyset index's leading
 * `account_id`) rather than by an index of their own on `consent_id`: the erasure, the claim at
 * step 5 and a sync that finds its consent erased now all go `account_id IN (the consent's
 * accounts)`. Every synced transaction was one entry in that index, and every erased one a removal
 * from it: one b-tree in four on SQLite (the table, the id, the keyset, the consent), written on
 * the first sync's path and on the retention sweep's. The column stays (the row still says whose
 * it is).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('transactions_consent_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('transactions_consent_id').on('transactions').column('consent_id').execute();
}

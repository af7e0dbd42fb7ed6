import { sql, type Kysely } from 'kysely';

/**
 * The shared data: each consent's bank connection, its accounts and their transactions; the
 * durable jobs that sync them; and the outbox of events for the app's webhook.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('connections')
    .addColumn('consent_id', 'text', (c) => c.primaryKey())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    /** JSON of the provider's ProviderConnection: personal (it may name the bank user). */
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    /** When the user last logged in at the bank (PSD2: unattended access for 90 days after). */
    .addColumn('last_login_at', 'bigint', (c) => c.notNull())
    /** How many accounts the bank offered at login (for all-accounts-selected). */
    .addColumn('bank_account_count', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('provider_account_id', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('booked_minor', 'bigint')
    .addColumn('available_minor', 'bigint')
    .addColumn('bban', 'text')
    .addColumn('bban_bank_code', 'text')
    .addColumn('bban_account_number', 'text')
    .addColumn('bban_type', 'text')
    .addColumn('iban', 'text')
    .addColumn('card', 'text')
    .addColumn('sync_status', 'text', (c) => c.notNull())
    .addColumn('last_synchronized', 'bigint')
    .addColumn('is_orphaned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('group_id', 'text')
    .addColumn('group_name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_consent_id').on('accounts').columns(['consent_id', 'position']).execute();
  await db.schema.createIndex('accounts_consent_provider_account').on('accounts').columns(['consent_id', 'provider_account_id']).unique().execute();

  await db.schema
    .createTable('transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('provider_transaction_id', 'text', (c) => c.notNull())
    .addColumn('date', 'text', (c) => c.notNull())
    /** Order within a day, newest highest; with `date` and `id` the keyset of the paging tokens. */
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('value_date', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('original_text', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('balance_minor', 'bigint')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('counterparty_name', 'text')
    .addColumn('category', 'text')
    .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('transactions_keyset').on('transactions').columns(['account_id', 'date', 'ordinal', 'id']).execute();
  await db.schema.createIndex('transactions_provider_id').on('transactions').columns(['account_id', 'provider_transaction_id']).unique().execute();
  await db.schema.createIndex('transactions_consent_id').on('transactions').column('consent_id').execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    /** At most one pending job per key (e.g. one sync per consent). */
    .addColumn('dedupe_key', 'text')
    .addColumn('consent_id', 'text')
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
  await db.schema.createIndex('jobs_consent_id').on('jobs').column('consent_id').execute();
  // A partial unique index: both SQLite and PostgreSQL have them.
  await sql`create unique index jobs_pending_dedupe on jobs (dedupe_key) where status = 'pending' and dedupe_key is not null`.execute(db);

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    /** JSON of the event's `data` (aiia-api.md §5). */
    .addColumn('data', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_app_created').on('events').columns(['app_id', 'created_at']).execute();
  await db.schema.createIndex('events_consent_id').on('events').column('consent_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['events', 'jobs', 'transactions', 'accounts', 'connections']) await db.schema.dropTable(table).ifExists().execute();
}

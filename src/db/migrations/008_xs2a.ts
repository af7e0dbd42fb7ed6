import type { Kysely } from 'kysely';

/**
 * NextGenPSD2 (issue #10): the connector's count of reads made without the user (PSD2
 * `frequencyPerDay`), and the simulated bank's consents, authorisations and its own count of those
 * reads. In the database, so every Ferry process sees the same budget and the same bank.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('xs2a_unattended_reads')
    // SHA-256 of (provider, bank consent id): the budget is per consent at the bank.
    .addColumn('consent_key', 'text', (c) => c.notNull())
    // `accounts`, `balances:<account>`, `transactions:<account>`: banks count per resource.
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('read_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('xs2a_unattended_reads_key').on('xs2a_unattended_reads').columns(['consent_key', 'resource', 'read_at']).execute();
  await db.schema.createIndex('xs2a_unattended_reads_read_at').on('xs2a_unattended_reads').column('read_at').execute();

  await db.schema
    .createTable('xs2a_sandbox_consents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('approach', 'text', (c) => c.notNull())
    .addColumn('access', 'text', (c) => c.notNull())
    .addColumn('recurring', 'integer', (c) => c.notNull())
    .addColumn('valid_until', 'text', (c) => c.notNull())
    .addColumn('frequency_per_day', 'integer', (c) => c.notNull())
    .addColumn('psu_id', 'text')
    .addColumn('tpp_redirect_uri', 'text')
    .addColumn('tpp_nok_redirect_uri', 'text')
    .addColumn('psu_message', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('authorised_at', 'bigint')
    .addColumn('last_action_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('xs2a_sandbox_consents_created_at').on('xs2a_sandbox_consents').column('created_at').execute();

  await db.schema
    .createTable('xs2a_sandbox_authorisations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('sca_status', 'text', (c) => c.notNull())
    // SHA-256 of the random token in the bank page's URL (redirect login, decoupled "phone").
    .addColumn('token_hash', 'text')
    .addColumn('method_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('xs2a_sandbox_authorisations_consent').on('xs2a_sandbox_authorisations').column('consent_id').execute();
  await db.schema.createIndex('xs2a_sandbox_authorisations_token').on('xs2a_sandbox_authorisations').column('token_hash').execute();

  await db.schema
    .createTable('xs2a_sandbox_accesses')
    .addColumn('consent_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('xs2a_sandbox_accesses_pk', ['consent_id', 'resource', 'day'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['xs2a_sandbox_accesses', 'xs2a_sandbox_authorisations', 'xs2a_sandbox_consents', 'xs2a_unattended_reads']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

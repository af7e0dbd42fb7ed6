import type { Kysely } from 'kysely';

/** Where a bank connection stands between logins: it needs the user again, or the bank asked for a pause. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('connections').addColumn('needs_login', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('connections').addColumn('rate_limited_until', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('connections').dropColumn('rate_limited_until').execute();
  await db.schema.alterTable('connections').dropColumn('needs_login').execute();
}

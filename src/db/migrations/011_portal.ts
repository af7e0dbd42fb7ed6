import type { Kysely } from 'kysely';

/**
 * The developer portal (issue 9): who owns which app, and the operator's invitations.
 *
 * - `app_owners`: the developers (portal users, `users.id`) an app belongs to. Apps the CLI
 *   creates have no row here and are visible to operators only.
 * - `portal_invitations`: emails the operator invited (`ferry portal invite`), needed when sign-up
 *   is closed; `operator = 1` makes the address an operator when it first signs in
 *   (`ferry portal grant-operator` before the person has an account).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_owners')
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('app_owners_pk', ['app_id', 'user_id'])
    .execute();
  await db.schema.createIndex('app_owners_user').on('app_owners').column('user_id').execute();
  await db.schema
    .createTable('portal_invitations')
    /** Lowercased, trimmed. */
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('invited_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_invitations').ifExists().execute();
  await db.schema.dropTable('app_owners').ifExists().execute();
}

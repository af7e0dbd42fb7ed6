import type { Kysely } from 'kysely';

/**
 * Ferry accounts (issue #6): users who sign in with a code sent by email, their sessions, the
 * codes (hashed), the sandbox mailbox, and the claim of a one-time consent by a user
 * (`consents.claimed_by`: its data is kept for the user when the app's access ends).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** Normalized: trimmed, lower-case. */
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('is_operator', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('email_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    /** What the code signs in to: 'account' (My connections, the hosted flow) or 'portal'. */
    .addColumn('purpose', 'text', (c) => c.notNull())
    /** HMAC-SHA-256 of the code under a deployment secret: never the code. */
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('email_codes_email').on('email_codes').columns(['email', 'purpose', 'created_at']).execute();
  await db.schema.createIndex('email_codes_expires_at').on('email_codes').column('expires_at').execute();

  await db.schema
    .createTable('user_sessions')
    /** SHA-256 of the cookie's token. */
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_sessions_user').on('user_sessions').column('user_id').execute();
  await db.schema.createIndex('user_sessions_expires_at').on('user_sessions').column('expires_at').execute();

  await db.schema
    .createTable('sandbox_mail')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_mail_created_at').on('sandbox_mail').column('created_at').execute();

  await db.schema.alterTable('consents').addColumn('claimed_by', 'text').execute();
  await db.schema.createIndex('consents_user_id').on('consents').column('user_id').execute();
  await db.schema.createIndex('consents_claimed_by').on('consents').column('claimed_by').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('consents_claimed_by').execute();
  await db.schema.dropIndex('consents_user_id').execute();
  await db.schema.alterTable('consents').dropColumn('claimed_by').execute();
  await db.schema.dropTable('sandbox_mail').ifExists().execute();
  await db.schema.dropTable('user_sessions').ifExists().execute();
  await db.schema.dropTable('email_codes').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
}

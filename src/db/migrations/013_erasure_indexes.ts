import type { Kysely } from 'kysely';

/**
 * The retention sweep erases a batch of consents' codes and flow sessions with one DELETE per
 * table (src/consents/erase.ts): without an index on `consent_id`, each batch scanned both
 * tables whole, twice on SQLite (count, then delete). Flow sessions carry the flow's data, so the
 * scan read every page of the table, once per batch of ~25 consents.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('authorization_codes_consent_id').on('authorization_codes').column('consent_id').execute();
  await db.schema.createIndex('flow_sessions_consent_id').on('flow_sessions').column('consent_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('flow_sessions_consent_id').execute();
  await db.schema.dropIndex('authorization_codes_consent_id').execute();
}

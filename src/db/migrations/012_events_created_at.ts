import type { Kysely } from 'kysely';

/** Old events are pruned by age (src/webhooks/deliveries.ts `pruneOldEvents`): an index to find them without a scan. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('events_created_at').on('events').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_created_at').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Webhook deliveries: one row per event per app with a webhook URL, written by `recordEvent` in
 * the transaction of the change the event speaks of (src/events/outbox.ts). A row is a small
 * durable queue entry: due when `status = 'pending'` and `next_attempt_at` has passed. A worker
 * claims a row by moving `next_attempt_at` forward by its lease and stamping `claimed_by`; if the
 * worker dies, the row is simply due again when the lease runs out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** The event (`events.id`), sent as `X-Aiia-EventId`: the same on every try and every redelivery. */
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    /** The URL of the latest try (the app's webhook URL at that moment). */
    .addColumn('url', 'text', (c) => c.notNull())
    /** pending → delivered | failed */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    /** The claim of the worker trying it now; its outcome counts only while the claim holds. */
    .addColumn('claimed_by', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_status_code', 'integer')
    /** Why the latest try failed (timeout, network error, refused address, status): never a body. */
    .addColumn('last_error', 'text')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('delivered_at', 'bigint')
    /** A redelivery's original delivery. */
    .addColumn('redelivery_of', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // Claims read only pending rows, oldest due first: a partial index (SQLite and PostgreSQL have them).
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
  await db.schema.createIndex('webhook_deliveries_app_created').on('webhook_deliveries').columns(['app_id', 'created_at']).execute();
  await db.schema.createIndex('webhook_deliveries_event_id').on('webhook_deliveries').column('event_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').ifExists().execute();
}

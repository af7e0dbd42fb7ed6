import { sql, type Kysely } from 'kysely';
import { newId } from '../crypto.js';
import type { Database } from '../db/schema.js';

/** The events of aiia-api.md §5, plus Ferry's `DataDeleted` and the `WebhookTest` an app asks for. */
export type EventName =
  | 'SyncDone'
  | 'AccountsUpdated'
  | 'SyncProgressUpdate'
  | 'ConnectionUpdateRequired'
  | 'ConnectionRateLimited'
  | 'ConnectionRemoved'
  | 'AccountsOrphaned'
  | 'AccountsUnorphaned'
  | 'ConsentNeedsUpdate'
  | 'ConsentRevoked'
  | 'DataDeleted'
  | 'WebhookTest';

/** Tries per webhook delivery before it is marked failed (src/webhooks/retry-schedule.ts). */
export const WEBHOOK_MAX_ATTEMPTS = 10;

/**
 * Records an event in the outbox. Callers pass the transaction that makes the change the event
 * speaks of: if that change commits, the event exists and will be delivered; if not, neither does.
 * When the app has a webhook URL, the event's delivery row is written in the same statement's
 * transaction too, due at once (src/webhooks/ delivers it).
 */
export async function recordEvent(
  trx: Kysely<Database>,
  event: { appId: string; consentId: string; event: EventName; data: unknown; now: number },
): Promise<string> {
  const id = newId();
  await trx
    .insertInto('events')
    .values({ id, app_id: event.appId, consent_id: event.consentId, event: event.event, data: event.data === null ? null : JSON.stringify(event.data), created_at: event.now })
    .execute();
  // One INSERT … SELECT: no round trip to read the app first, nothing written for an app without a URL.
  await trx
    .insertInto('webhook_deliveries')
    .columns(['id', 'event_id', 'app_id', 'url', 'status', 'attempts', 'max_attempts', 'next_attempt_at', 'created_at'])
    .expression((eb) =>
      eb
        .selectFrom('apps')
        .select([
          // Typed casts: PostgreSQL would read untyped parameters in a SELECT list as text.
          sql<string>`cast(${newId()} as text)`.as('id'),
          sql<string>`cast(${id} as text)`.as('event_id'),
          'apps.id',
          'apps.webhook_url',
          sql<string>`cast(${'pending'} as text)`.as('status'),
          sql<number>`cast(${0} as integer)`.as('attempts'),
          sql<number>`cast(${WEBHOOK_MAX_ATTEMPTS} as integer)`.as('max_attempts'),
          sql<number>`cast(${event.now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${event.now} as bigint)`.as('created_at'),
        ])
        .where('apps.id', '=', event.appId)
        .where('apps.webhook_url', 'is not', null),
    )
    .execute();
  return id;
}

/**
 * Records many events at once, as {@link recordEvent} records one, in the caller's transaction:
 * one multi-row INSERT of the events and one of their deliveries (for the apps with a webhook
 * URL, read in the same transaction) instead of two statements per event. For the retention
 * sweep, which records a `DataDeleted` for each of thousands of consents.
 */
export async function recordEvents(
  trx: Kysely<Database>,
  events: ReadonlyArray<{ appId: string; consentId: string; event: EventName; data: unknown; now: number }>,
): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => ({ id: newId(), app_id: e.appId, consent_id: e.consentId, event: e.event, data: e.data === null ? null : JSON.stringify(e.data), created_at: e.now }));
  // 6 columns a row: 1000 rows stay under both databases' limits on parameters.
  for (let i = 0; i < rows.length; i += 1000) await trx.insertInto('events').values(rows.slice(i, i + 1000)).execute();
  const appIds = [...new Set(rows.map((r) => r.app_id))];
  const hooked = new Map(
    (await trx.selectFrom('apps').select(['id', 'webhook_url']).where('id', 'in', appIds).where('webhook_url', 'is not', null).execute()).map((a) => [a.id, a.webhook_url!]),
  );
  const deliveries = rows
    .filter((r) => hooked.has(r.app_id))
    .map((r) => ({ id: newId(), event_id: r.id, app_id: r.app_id, url: hooked.get(r.app_id)!, status: 'pending' as const, attempts: 0, max_attempts: WEBHOOK_MAX_ATTEMPTS, next_attempt_at: r.created_at, created_at: r.created_at }));
  // 9 columns a row.
  for (let i = 0; i < deliveries.length; i += 500) await trx.insertInto('webhook_deliveries').values(deliveries.slice(i, i + 500)).execute();
  return rows.map((r) => r.id);
}

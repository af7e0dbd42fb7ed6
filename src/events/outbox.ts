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

import type { Kysely } from 'kysely';
import { newId } from '../crypto.js';
import type { Database } from '../db/schema.js';

/** The events of aiia-api.md §5, plus Ferry's `DataDeleted`. */
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
  | 'DataDeleted';

/**
 * Records an event in the outbox. Callers pass the transaction that makes the change the event
 * speaks of: if that change commits, the event exists and will be delivered; if not, neither does.
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
  return id;
}

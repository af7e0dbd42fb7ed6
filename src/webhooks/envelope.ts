import type { EventName } from '../events/outbox.js';

/** An event as the outbox holds it (`events` row), enough to build the request body. */
export interface OutboxEvent {
  id: string;
  event: EventName;
  /** '' for a `WebhookTest`, which speaks of no consent. */
  consentId: string;
  /** JSON of the event's data, or null (`ConsentRevoked`). */
  data: string | null;
}

/** aiia-api.md §5: the body's one key is the event in camelCase plus `Webhook` (`SyncDone` → `syncDoneWebhook`). */
export function webhookWrapperKey(event: string): string {
  return `${event.charAt(0).toLowerCase()}${event.slice(1)}Webhook`;
}

/**
 * The request body, e.g. `{"syncDoneWebhook":{"consentId":"…","event":"SyncDone","data":{…}}}`.
 * Built from the stored JSON without re-encoding the data, so every try sends the same bytes.
 */
export function webhookBody(event: OutboxEvent): string {
  const consentId = event.consentId === '' ? 'null' : JSON.stringify(event.consentId);
  return `{${JSON.stringify(webhookWrapperKey(event.event))}:{"consentId":${consentId},"event":${JSON.stringify(event.event)},"data":${event.data ?? 'null'}}}`;
}

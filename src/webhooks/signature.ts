import { createHmac } from 'node:crypto';

/** What the signature covers (aiia-api.md §5), in this order, joined by `|`. */
export interface SignedParts {
  /** The `X-Aiia-TimeStamp` header: whole seconds since the Unix epoch, as a decimal string. */
  timestamp: string;
  eventId: string;
  event: string;
  /** The raw request body, exactly the bytes sent. */
  body: string;
}

/** `X-Aiia-Signature`: lowercase hex HMAC-SHA256(secret, "{timestamp}|{eventId}|{event}|{body}"), UTF-8 throughout. */
export function signWebhook(secret: string, parts: SignedParts): string {
  return createHmac('sha256', secret).update(`${parts.timestamp}|${parts.eventId}|${parts.event}|${parts.body}`, 'utf8').digest('hex');
}

/**
 * Ferry sends `X-Aiia-TimeStamp` as Unix seconds: Aiia's own sample receiver parses the header as
 * an integer (`long.TryParse`), and seconds are what replay windows are written in. It is the time
 * of the try, not of the event, so a retry a day later still passes a receiver's replay window;
 * the event id stays the same.
 */
export function webhookTimestamp(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}

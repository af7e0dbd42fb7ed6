import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifying a webhook from Ferry (or Aiia Data, which signs the same way):
 *
 *     const event = verifyWebhook(secret, request.headers, rawBody);
 *     switch (event.event) { case 'SyncDone': event.data.syncedAccountIds … }
 *
 * Pass the body exactly as received (a string or the raw bytes), never re-serialized JSON: the
 * signature covers the bytes. Dedupe on `event.eventId`: it is the same on every retry.
 */

/** The headers Ferry sends, lowercase (Node's `IncomingHttpHeaders` keys). */
export const WEBHOOK_HEADERS = {
  event: 'x-aiia-event',
  eventId: 'x-aiia-eventid',
  timestamp: 'x-aiia-timestamp',
  signature: 'x-aiia-signature',
} as const;

/** How far the timestamp may be from now, either way: a captured request replays for at most this long. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Each event's `data` (aiia-api.md §5, and Ferry's own `DataDeleted` and `WebhookTest`). */
export interface WebhookEventData {
  SyncDone: { syncedAccountIds: string[] };
  AccountsUpdated: {
    changedAccounts: Array<{ accountId: string; transactionsChanged: number; oldestTransactionChangedAt: string | null; transactionSpan?: unknown }>;
  };
  SyncProgressUpdate: { accountId: string };
  ConnectionUpdateRequired: { accountIds: string[]; expiresAt: string; reason?: string };
  ConnectionRateLimited: { accountIds: string[]; rateLimitedUntil: string };
  ConnectionRemoved: { accountIds: string[] };
  AccountsOrphaned: { accountIds: string[] };
  AccountsUnorphaned: { accountIds: string[] };
  ConsentNeedsUpdate: { reason: string };
  ConsentRevoked: null;
  DataDeleted: { deletedAt: string; reason: 'OneTimeRetention' | 'ConsentRevoked' };
  WebhookTest: { message: string; sentAt: string };
}

export type WebhookEventName = keyof WebhookEventData;

/** A verified event; `switch (event.event)` narrows `data`. */
export type WebhookEvent = {
  [E in WebhookEventName]: {
    event: E;
    /** `X-Aiia-EventId`: unique per event, the same on every try. Dedupe on it. */
    eventId: string;
    /** When this try was signed (`X-Aiia-TimeStamp`). */
    timestamp: Date;
    /** The consent the event speaks of; null for `WebhookTest`. */
    consentId: E extends 'WebhookTest' ? null : string;
    data: WebhookEventData[E];
  };
}[WebhookEventName];

/** Node's `IncomingHttpHeaders`, a plain record in any letter case, or a Fetch `Headers`. */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export type WebhookVerificationErrorCode =
  /** A required header is absent (`X-Aiia-Signature` included: a secret was given, so it must be signed). */
  | 'missing_header'
  /** `X-Aiia-TimeStamp` is not a time. */
  | 'invalid_timestamp'
  /** The signature does not match: wrong secret, or the body or a header was changed. */
  | 'bad_signature'
  /** Signed correctly, but outside the replay window. */
  | 'stale_timestamp'
  /** Signed correctly, but not a webhook body of the named event. */
  | 'malformed_body';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyWebhookOptions {
  /** The replay window in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time (ms since the epoch or a Date); tests pass their own. */
  now?: number | Date;
}

/**
 * Checks a webhook's signature and freshness and returns the event; throws a
 * {@link WebhookVerificationError} whose `code` says what is wrong. The signature is
 * lowercase hex HMAC-SHA256(secret, "{timestamp}|{eventId}|{event}|{rawBody}"), compared in
 * constant time.
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, rawBody: string | Uint8Array, options: VerifyWebhookOptions = {}): WebhookEvent {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('verifyWebhook needs the webhook secret the app was registered with.');
  const event = requireHeader(headers, WEBHOOK_HEADERS.event);
  const eventId = requireHeader(headers, WEBHOOK_HEADERS.eventId);
  const timestampHeader = requireHeader(headers, WEBHOOK_HEADERS.timestamp);
  const signature = requireHeader(headers, WEBHOOK_HEADERS.signature);

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = createHmac('sha256', secret).update(`${timestampHeader}|${eventId}|${event}|`, 'utf8').update(body).digest();
  const presented = /^[0-9a-fA-F]{64}$/.test(signature.trim()) ? Buffer.from(signature.trim(), 'hex') : Buffer.alloc(0);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new WebhookVerificationError('bad_signature', 'The X-Aiia-Signature does not match: check the webhook secret, and pass the raw body as received.');
  }

  const signedAt = parseTimestamp(timestampHeader);
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - signedAt) > tolerance * 1000) {
    throw new WebhookVerificationError('stale_timestamp', `The webhook was signed ${Math.round((now - signedAt) / 1000)} s from now, outside the ${tolerance} s window.`);
  }

  const inner = parseBody(body, event);
  return { event, eventId, timestamp: new Date(signedAt), consentId: inner.consentId ?? null, data: inner.data ?? null } as WebhookEvent;
}

function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  return Array.isArray(value) ? value[0] : value;
}

function requireHeader(headers: WebhookHeaders, name: string): string {
  const value = readHeader(headers, name);
  if (value === undefined || value === '') throw new WebhookVerificationError('missing_header', `The ${name} header is missing.`);
  return value;
}

/**
 * Ferry sends whole Unix seconds. Milliseconds (13 digits or more) and ISO-8601 are accepted as
 * well, so the helper also reads a sender that writes the time another way.
 */
function parseTimestamp(value: string): number {
  const text = value.trim();
  if (/^\d{1,16}$/.test(text)) {
    const n = Number(text);
    return text.length >= 13 ? n : n * 1000;
  }
  const parsed = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(parsed)) throw new WebhookVerificationError('invalid_timestamp', `X-Aiia-TimeStamp ${JSON.stringify(text.slice(0, 40))} is not a time.`);
  return parsed;
}

function parseBody(body: Buffer, event: string): { consentId?: string | null; data?: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('malformed_body', 'The body is not JSON.');
  }
  const key = `${event.charAt(0).toLowerCase()}${event.slice(1)}Webhook`;
  const inner = (parsed as Record<string, unknown> | null)?.[key] as { consentId?: string | null; event?: string; data?: unknown } | undefined;
  if (inner === undefined || inner === null || typeof inner !== 'object' || inner.event !== event) {
    throw new WebhookVerificationError('malformed_body', `The body has no ${key} for the ${event} event.`);
  }
  return inner;
}

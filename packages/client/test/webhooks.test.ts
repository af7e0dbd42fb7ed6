import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from '../src/index.js';

const SECRET = 'whsec_client_test';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const EVENT_ID = '6b0f8a0e-3c9d-4d1e-9a55-1f2e3d4c5b6a';
const CONSENT_ID = '0c4f3f5e-8a61-4b2d-a2f7-6e1d9c0b7a35';

/** A request as Ferry (or Aiia) sends it. */
function signed(event: string, inner: unknown, options: { timestamp?: string; secret?: string; body?: string } = {}) {
  const body = options.body ?? JSON.stringify({ [`${event[0]!.toLowerCase()}${event.slice(1)}Webhook`]: inner });
  const timestamp = options.timestamp ?? String(NOW / 1000);
  const signature = createHmac('sha256', options.secret ?? SECRET).update(`${timestamp}|${EVENT_ID}|${event}|${body}`).digest('hex');
  return { headers: { 'x-aiia-event': event, 'x-aiia-eventid': EVENT_ID, 'x-aiia-timestamp': timestamp, 'x-aiia-signature': signature } as Record<string, string>, body };
}

const syncDone = () => signed('SyncDone', { consentId: CONSENT_ID, event: 'SyncDone', data: { syncedAccountIds: ['a1', 'a2'] } });

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, String(error));
    return error.code;
  }
  return 'verified';
};

describe('verifyWebhook (@ferry/client)', () => {
  it('returns the typed event for a good signature, from a string, a Buffer or a Uint8Array', () => {
    const { headers, body } = syncDone();
    for (const raw of [body, Buffer.from(body), new Uint8Array(Buffer.from(body))]) {
      const event: WebhookEvent = verifyWebhook(SECRET, headers, raw, { now: NOW });
      assert.equal(event.event, 'SyncDone');
      assert.equal(event.eventId, EVENT_ID);
      assert.equal(event.consentId, CONSENT_ID);
      assert.equal(event.timestamp.getTime(), NOW);
      if (event.event === 'SyncDone') assert.deepEqual(event.data.syncedAccountIds, ['a1', 'a2']);
    }
  });

  it('reads headers in any letter case, as arrays, and from a Fetch Headers object', () => {
    const { headers, body } = syncDone();
    const shouting = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
    assert.equal(verifyWebhook(SECRET, shouting, body, { now: NOW }).eventId, EVENT_ID);
    assert.equal(verifyWebhook(SECRET, new Headers(headers), body, { now: NOW }).eventId, EVENT_ID);
  });

  it('refuses a changed body, event, event id or timestamp, and the wrong secret (bad_signature)', () => {
    const { headers, body } = syncDone();
    assert.equal(code(() => verifyWebhook(SECRET, headers, body.replace('a2', 'a3'), { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook(SECRET, { ...headers, 'x-aiia-event': 'AccountsUpdated' }, body, { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook(SECRET, { ...headers, 'x-aiia-eventid': 'another' }, body, { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook(SECRET, { ...headers, 'x-aiia-timestamp': String(NOW / 1000 + 1) }, body, { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook('not-the-secret', headers, body, { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook(SECRET, { ...headers, 'x-aiia-signature': 'zz' }, body, { now: NOW })), 'bad_signature');
    assert.equal(code(() => verifyWebhook(SECRET, { ...headers, 'x-aiia-signature': headers['x-aiia-signature']!.toUpperCase() }, body, { now: NOW })), 'verified', 'hex in either case');
  });

  it('refuses a replay outside the window, either way, and accepts one inside it (stale_timestamp)', () => {
    const { headers, body } = syncDone();
    assert.equal(code(() => verifyWebhook(SECRET, headers, body, { now: NOW + 301_000 })), 'stale_timestamp');
    assert.equal(code(() => verifyWebhook(SECRET, headers, body, { now: NOW - 301_000 })), 'stale_timestamp');
    assert.equal(code(() => verifyWebhook(SECRET, headers, body, { now: NOW + 299_000 })), 'verified');
    assert.equal(code(() => verifyWebhook(SECRET, headers, body, { now: new Date(NOW + 3_000_000), toleranceSeconds: 3600 })), 'verified');
  });

  it('accepts millisecond and ISO-8601 timestamps too, and refuses one that is not a time', () => {
    for (const timestamp of [String(NOW), new Date(NOW).toISOString()]) {
      const { headers, body } = signed('SyncDone', { consentId: CONSENT_ID, event: 'SyncDone', data: { syncedAccountIds: [] } }, { timestamp });
      assert.equal(verifyWebhook(SECRET, headers, body, { now: NOW }).timestamp.getTime(), NOW);
    }
    const { headers, body } = signed('SyncDone', { consentId: CONSENT_ID, event: 'SyncDone', data: {} }, { timestamp: 'yesterday' });
    assert.equal(code(() => verifyWebhook(SECRET, headers, body, { now: NOW })), 'invalid_timestamp');
  });

  it('needs every header, the signature included (missing_header)', () => {
    const { headers, body } = syncDone();
    for (const name of Object.keys(headers)) {
      const without = { ...headers };
      delete without[name];
      assert.equal(code(() => verifyWebhook(SECRET, without, body, { now: NOW })), 'missing_header', name);
    }
    assert.throws(() => verifyWebhook('', headers, body), TypeError);
  });

  it('refuses a signed body that is not the named event’s envelope (malformed_body)', () => {
    const wrongKey = signed('SyncDone', null, { body: JSON.stringify({ accountsUpdatedWebhook: { consentId: CONSENT_ID, event: 'SyncDone', data: {} } }) });
    assert.equal(code(() => verifyWebhook(SECRET, wrongKey.headers, wrongKey.body, { now: NOW })), 'malformed_body');
    const notJson = signed('SyncDone', null, { body: 'not json' });
    assert.equal(code(() => verifyWebhook(SECRET, notJson.headers, notJson.body, { now: NOW })), 'malformed_body');
  });

  it('reads ConsentRevoked (data null), DataDeleted and WebhookTest (consentId null)', () => {
    const revoked = signed('ConsentRevoked', { consentId: CONSENT_ID, event: 'ConsentRevoked', data: null });
    const event = verifyWebhook(SECRET, revoked.headers, revoked.body, { now: NOW });
    assert.equal(event.event, 'ConsentRevoked');
    assert.equal(event.data, null);
    const deleted = signed('DataDeleted', { consentId: CONSENT_ID, event: 'DataDeleted', data: { deletedAt: '2026-01-15T12:00:00.000Z', reason: 'ConsentRevoked' } });
    const d = verifyWebhook(SECRET, deleted.headers, deleted.body, { now: NOW });
    if (d.event === 'DataDeleted') assert.equal(d.data.reason, 'ConsentRevoked');
    const test = signed('WebhookTest', { consentId: null, event: 'WebhookTest', data: { message: 'hi', sentAt: '2026-01-15T12:00:00.000Z' } });
    assert.equal(verifyWebhook(SECRET, test.headers, test.body, { now: NOW }).consentId, null);
  });
});

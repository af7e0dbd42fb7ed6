import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyWebhook } from '../../packages/client/src/index.js';
import { ManualClock } from '../../src/clock.js';
import { claimDeliveries, FINISHED_DELIVERY_RETENTION_MS, pruneFinishedDeliveries, pruneOldEvents } from '../../src/webhooks/deliveries.js';
import { RETRY_DELAYS_MS } from '../../src/webhooks/retry-schedule.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';
import { startReceiver, type TestReceiver } from './receiver.js';
import { createDispatcher, createWebhookApp, recordTestEvents, WEBHOOK_SECRET, type WebhookApp } from './helpers.js';

/** Far enough for any retry (the longest delay plus its jitter). */
const PAST_ANY_RETRY_MS = Math.max(...RETRY_DELAYS_MS) * 1.25;

for (const dialect of DIALECTS) {
  describe(`webhook delivery (aiia-api.md §5) [${dialect}]`, () => {
    let testDb: TestDatabase;
    let clock: ManualClock;
    let receiver: TestReceiver;
    let app: WebhookApp;

    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
      clock = new ManualClock();
      receiver = await startReceiver();
      app = await createWebhookApp(testDb.database, clock, receiver.url);
    });
    afterEach(async () => {
      await receiver.close();
      await testDb.drop();
    });

    const deliveries = () => testDb.database.db.selectFrom('webhook_deliveries').selectAll().execute();

    it('POSTs Aiia’s envelope and headers, signed so that the helper and a hand-written HMAC both verify it', async () => {
      const dispatcher = createDispatcher(testDb.database, clock);
      const [eventId] = await recordTestEvents(testDb.database, clock, app.clientId, 1);
      assert.equal(await dispatcher.runDue(), 1);
      await dispatcher.stop();

      assert.equal(receiver.received.length, 1);
      const { headers, rawBody } = receiver.received[0]!;
      for (const name of ['X-Aiia-Event', 'X-Aiia-EventId', 'X-Aiia-TimeStamp', 'X-Aiia-Signature']) assert.ok(receiver.received[0]!.rawHeaderNames.includes(name), `${name}, cased as Aiia sends it`);
      assert.equal(headers['x-aiia-event'], 'SyncDone');
      assert.equal(headers['x-aiia-eventid'], eventId);
      assert.match(String(headers['content-type']), /^application\/json/);
      assert.equal(headers['x-aiia-timestamp'], String(Math.floor(clock.now() / 1000)), 'Unix seconds of the try');
      assert.deepEqual(JSON.parse(rawBody.toString()), { syncDoneWebhook: { consentId: 'consent-0', event: 'SyncDone', data: { syncedAccountIds: ['account-0'] } } });

      // By hand, as Aiia's sample receiver does it: HMAC-SHA256 over "timestamp|eventId|event|body", lowercase hex.
      const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${headers['x-aiia-timestamp']}|${headers['x-aiia-eventid']}|${headers['x-aiia-event']}|${rawBody.toString('utf8')}`).digest('hex');
      assert.equal(headers['x-aiia-signature'], expected);

      // With the helper, from the raw bytes and from a string; a wrong secret is refused.
      const event = verifyWebhook(WEBHOOK_SECRET, headers, rawBody, { now: clock.now() });
      assert.equal(event.event, 'SyncDone');
      assert.equal(event.eventId, eventId);
      assert.equal(event.consentId, 'consent-0');
      if (event.event === 'SyncDone') assert.deepEqual(event.data.syncedAccountIds, ['account-0']);
      assert.equal(verifyWebhook(WEBHOOK_SECRET, headers, rawBody.toString('utf8'), { now: clock.now() }).eventId, eventId);
      assert.throws(() => verifyWebhook('another-secret', headers, rawBody, { now: clock.now() }), { code: 'bad_signature' });

      const [row] = await deliveries();
      assert.equal(row!.status, 'delivered');
      assert.equal(row!.attempts, 1);
      assert.equal(row!.last_status_code, 200);
      assert.equal(row!.claimed_by, null);
    });

    it('sends no signature when the app has no webhook secret', async () => {
      const unsigned = await createWebhookApp(testDb.database, clock, receiver.url, null);
      const dispatcher = createDispatcher(testDb.database, clock);
      await recordTestEvents(testDb.database, clock, unsigned.clientId, 1);
      await dispatcher.runDue();
      await dispatcher.stop();
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0]!.headers['x-aiia-signature'], undefined);
      assert.ok(receiver.received[0]!.headers['x-aiia-eventid']);
    });

    it('retries a receiver that fails five times with backoff, then delivers once more with the same event id, and stops', async () => {
      receiver.answer = (n) => (n < 5 ? 500 : 200);
      const dispatcher = createDispatcher(testDb.database, clock, { random: () => 0.5 });
      const [eventId] = await recordTestEvents(testDb.database, clock, app.clientId, 1);

      const schedule: number[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        const before = clock.now();
        await dispatcher.runDue();
        const [row] = await deliveries();
        assert.equal(row!.status, 'pending', `after try ${attempt}`);
        assert.equal(row!.attempts, attempt);
        assert.equal(row!.last_status_code, 500);
        assert.equal(row!.last_error, 'answered 500');
        schedule.push(row!.next_attempt_at - before);
        assert.equal(await dispatcher.runDue(), 0, 'not before its time');
        clock.set(row!.next_attempt_at);
      }
      assert.deepEqual(schedule, RETRY_DELAYS_MS.slice(0, 5), 'exponential backoff (jitter pinned to its middle)');

      await dispatcher.runDue();
      assert.deepEqual(receiver.eventIds(), Array(6).fill(eventId), 'six tries, one event id');
      const [row] = await deliveries();
      assert.equal(row!.status, 'delivered');
      assert.equal(row!.attempts, 6);

      clock.advance(PAST_ANY_RETRY_MS);
      assert.equal(await dispatcher.runDue(), 0);
      assert.equal(receiver.received.length, 6, 'nothing after the 200');
      await dispatcher.stop();
    });

    it('times out a receiver that hangs, and retries it later', async () => {
      receiver.answer = (n) => (n === 0 ? 'hang' : 200);
      const dispatcher = createDispatcher(testDb.database, clock, { timeoutMs: 300 });
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      const started = Date.now();
      await dispatcher.runDue();
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 2_000, `gave up after the timeout (${took} ms)`);
      let [row] = await deliveries();
      assert.equal(row!.status, 'pending');
      assert.equal(row!.last_status_code, null);
      assert.match(row!.last_error!, /no answer within 300 ms/);
      assert.equal(dispatcher.counters.timeout, 1);

      clock.advance(PAST_ANY_RETRY_MS);
      await dispatcher.runDue();
      [row] = await deliveries();
      assert.equal(row!.status, 'delivered');
      assert.equal(receiver.received.length, 2);
      await dispatcher.stop();
    });

    it('counts only a 200 as delivered: a 204, a redirect and a refused connection are failed tries', async () => {
      const answers = [204, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } }];
      receiver.answer = (n) => answers[n] ?? 200;
      const dispatcher = createDispatcher(testDb.database, clock);
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      await dispatcher.runDue();
      assert.equal((await deliveries())[0]!.last_status_code, 204);
      clock.advance(PAST_ANY_RETRY_MS);
      await dispatcher.runDue();
      assert.equal((await deliveries())[0]!.last_status_code, 302);
      assert.equal(receiver.received.length, 2, 'the redirect was not followed');

      await receiver.close();
      clock.advance(PAST_ANY_RETRY_MS);
      await dispatcher.runDue();
      const [row] = await deliveries();
      assert.equal(row!.status, 'pending');
      assert.equal(row!.last_error, 'connection refused');
      await dispatcher.stop();
    });

    it('honours Retry-After when it asks for longer than the backoff', async () => {
      receiver.answer = (n) => (n === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : 200);
      const dispatcher = createDispatcher(testDb.database, clock, { random: () => 0.5 });
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      const before = clock.now();
      await dispatcher.runDue();
      assert.equal((await deliveries())[0]!.next_attempt_at - before, 3600_000);
      await dispatcher.stop();
    });

    it('marks a delivery failed after ten tries over about a day, and keeps it visible', async () => {
      receiver.answer = () => 500;
      const dispatcher = createDispatcher(testDb.database, clock, { random: () => 1 });
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      const first = clock.now();
      for (let i = 0; i < 10; i++) {
        await dispatcher.runDue();
        const [row] = await deliveries();
        if (row!.status === 'pending') clock.set(row!.next_attempt_at);
      }
      const [row] = await deliveries();
      assert.equal(row!.status, 'failed');
      assert.equal(row!.attempts, 10);
      assert.equal(receiver.received.length, 10);
      const span = row!.last_attempt_at! - first;
      assert.ok(span > 20 * 3600_000 && span < 30 * 3600_000, `ten tries over about a day (${(span / 3600_000).toFixed(1)} h)`);
      clock.advance(PAST_ANY_RETRY_MS);
      assert.equal(await dispatcher.runDue(), 0, 'a failed delivery is not tried again on its own');
      await dispatcher.stop();
    });

    it('writes no delivery for an app without a webhook URL, and none when the event’s transaction rolls back', async () => {
      const silent = await createWebhookApp(testDb.database, clock, receiver.url, null);
      await testDb.database.db.updateTable('apps').set({ webhook_url: null }).where('id', '=', silent.clientId).execute();
      await recordTestEvents(testDb.database, clock, silent.clientId, 1);
      await assert.rejects(
        testDb.database.db.transaction().execute(async (trx) => {
          const { recordEvent } = await import('../../src/events/outbox.js');
          await recordEvent(trx, { appId: app.clientId, consentId: 'c', event: 'SyncDone', data: {}, now: clock.now() });
          throw new Error('the change failed');
        }),
      );
      assert.equal((await deliveries()).length, 0);
      assert.equal((await testDb.database.db.selectFrom('events').selectAll().where('app_id', '=', app.clientId).execute()).length, 0);
    });

    it('keeps delivering to other apps while one app’s receiver hangs (a share of the slots per app)', async () => {
      const hanging = await startReceiver(() => 'hang');
      try {
        const stuck = await createWebhookApp(testDb.database, clock, hanging.url);
        // The hanging app's backlog is older, so it is first in line.
        await recordTestEvents(testDb.database, clock, stuck.clientId, 40);
        const ids = await recordTestEvents(testDb.database, clock, app.clientId, 10);
        const dispatcher = createDispatcher(testDb.database, clock, { concurrency: 8, perAppConcurrency: 4, timeoutMs: 20_000 });
        dispatcher.start();
        const started = Date.now();
        while (receiver.received.length < 10 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(new Set(receiver.eventIds()), new Set(ids), 'the other app got every event while the hanging one held its share');
        assert.equal(hanging.received.length, 4, 'the hanging app holds 4 slots, no more');
        const stuckRows = await testDb.database.db.selectFrom('webhook_deliveries').select(['attempts', 'claimed_by']).where('app_id', '=', stuck.clientId).execute();
        assert.equal(stuckRows.filter((r) => r.attempts > 0).length, 4, 'deliveries given back untried count no try');
        await hanging.close();
        await dispatcher.stop();
      } finally {
        await hanging.close();
      }
    });

    it('lets two workers share the queue: each event is tried once', async () => {
      const ids = await recordTestEvents(testDb.database, clock, app.clientId, 120);
      // What is checked is exclusivity, not speed: a time limit no busy machine reaches, so every try lands.
      const a = createDispatcher(testDb.database, clock, { concurrency: 16, timeoutMs: 30_000 });
      const b = createDispatcher(testDb.database, clock, { concurrency: 16, timeoutMs: 30_000 });
      const [ranA, ranB] = await Promise.all([a.runDue(), b.runDue()]);
      assert.equal(ranA + ranB, 120);
      assert.equal(receiver.received.length, 120, 'each event sent once: none twice, none lost');
      assert.deepEqual(new Set(receiver.eventIds()), new Set(ids));
      await Promise.all([a.stop(), b.stop()]);
    });

    it('takes over a delivery whose worker died mid-try once its lease runs out, with the same event id', async () => {
      const [eventId] = await recordTestEvents(testDb.database, clock, app.clientId, 1);
      // A worker claims it and dies before writing anything.
      const [claimed] = await claimDeliveries(testDb.database.db, testDb.database.capabilities, { claim: 'dead-worker:1', now: clock.now(), limit: 10, leaseMs: 25_000 });
      assert.equal(claimed!.eventId, eventId);
      const survivor = createDispatcher(testDb.database, clock);
      assert.equal(await survivor.runDue(), 0, 'not while the lease holds');
      clock.advance(25_000);
      assert.equal(await survivor.runDue(), 1);
      assert.deepEqual(receiver.eventIds(), [eventId]);
      const [row] = await deliveries();
      assert.equal(row!.status, 'delivered');
      assert.equal(row!.attempts, 2, 'the dead worker’s try counts');
      await survivor.stop();
    });

    it('prunes finished deliveries after 30 days, never pending ones', async () => {
      receiver.answer = (_n, request) => (request.headers['x-aiia-eventid'] === ids[2] ? 500 : 200);
      const ids = await recordTestEvents(testDb.database, clock, app.clientId, 3);
      const dispatcher = createDispatcher(testDb.database, clock);
      await dispatcher.runDue();
      await dispatcher.stop();
      assert.equal(await pruneFinishedDeliveries(testDb.database.db, clock.now() + FINISHED_DELIVERY_RETENTION_MS - 1), 0);
      assert.equal(await pruneFinishedDeliveries(testDb.database.db, clock.now() + FINISHED_DELIVERY_RETENTION_MS + 1), 2);
      const left = await deliveries();
      assert.deepEqual(left.map((d) => [d.event_id, d.status]), [[ids[2], 'pending']]);
    });

    it('prunes old events once no delivery refers to them, never one with a pending delivery', async () => {
      receiver.answer = (_n, request) => (request.headers['x-aiia-eventid'] === ids[2] ? 500 : 200);
      const ids = await recordTestEvents(testDb.database, clock, app.clientId, 3);
      const dispatcher = createDispatcher(testDb.database, clock);
      await dispatcher.runDue();
      await dispatcher.stop();
      const later = clock.now() + FINISHED_DELIVERY_RETENTION_MS + 1;
      assert.equal(await pruneOldEvents(testDb.database.db, later), 0, 'every event still has its delivery');
      await pruneFinishedDeliveries(testDb.database.db, later);
      assert.equal(await pruneOldEvents(testDb.database.db, clock.now() + FINISHED_DELIVERY_RETENTION_MS - 1), 0, 'not before the retention');
      assert.equal(await pruneOldEvents(testDb.database.db, later), 2);
      const left = await testDb.database.db.selectFrom('events').select('id').where('app_id', '=', app.clientId).execute();
      assert.deepEqual(left.map((e) => e.id), [ids[2]], 'the event whose delivery is still pending stays');
    });
  });
}

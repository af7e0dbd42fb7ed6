import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyWebhook } from '../../packages/client/src/index.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createWebhookApp, recordTestEvents, WEBHOOK_SECRET, type WebhookApp } from './helpers.js';
import { startReceiver, type TestReceiver } from './receiver.js';

for (const dialect of DIALECTS) {
  describe(`webhook management API [${dialect}]`, () => {
    let server: TestServer;
    let receiver: TestReceiver;
    let app: WebhookApp;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      receiver = await startReceiver();
      app = await createWebhookApp(server.services.database, server.clock, receiver.url);
    });
    afterEach(async () => {
      await server.close();
      await receiver.close();
    });

    const call = (method: 'GET' | 'POST', url: string, basic: string | null = app.basic) =>
      server.app.inject({ method, url, headers: basic === null ? {} : { authorization: basic } });

    it('wants the app’s client credentials (HTTP Basic), with a challenge', async () => {
      for (const basic of [null, `Basic ${Buffer.from(`${app.clientId}:wrong`).toString('base64')}`]) {
        const res = await call('GET', '/v1/webhooks/deliveries', basic);
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().error, 'invalid_client');
        assert.match(String(res.headers['www-authenticate']), /^Basic/);
      }
    });

    it('sends a test event, signed, and shows the delivery and its outcome', async () => {
      const sent = await call('POST', '/v1/webhooks/test');
      assert.equal(sent.statusCode, 202, sent.body);
      const queued = sent.json();
      assert.equal(queued.status, 'Pending');
      assert.equal(queued.event, 'WebhookTest');
      assert.equal(queued.consentId, null);

      await server.services.webhooks.runDue();
      assert.equal(receiver.received.length, 1);
      const { headers, rawBody } = receiver.received[0]!;
      const event = verifyWebhook(WEBHOOK_SECRET, headers, rawBody, { now: server.clock.now() });
      assert.equal(event.event, 'WebhookTest');
      assert.equal(event.eventId, queued.eventId);
      assert.equal(event.consentId, null);
      assert.ok(JSON.parse(rawBody.toString()).webhookTestWebhook);

      const shown = (await call('GET', `/v1/webhooks/deliveries/${queued.id}`)).json();
      assert.equal(shown.status, 'Delivered');
      assert.equal(shown.attempts, 1);
      assert.equal(shown.lastStatusCode, 200);
      assert.equal(shown.nextAttemptAt, null);
      assert.ok(shown.deliveredAt);
      assert.equal(shown.url, receiver.url);
    });

    it('lists recent deliveries newest first, filtered by status, and only the app’s own', async () => {
      const other = await createWebhookApp(server.services.database, server.clock, receiver.url);
      await recordTestEvents(server.services.database, server.clock, other.clientId, 2);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(...(await recordTestEvents(server.services.database, server.clock, app.clientId, 1)));
        server.clock.advance(1000);
      }
      receiver.answer = (_n, request) => (request.headers['x-aiia-eventid'] === ids[0] ? 500 : 200);
      await server.services.webhooks.runDue();

      const all = (await call('GET', '/v1/webhooks/deliveries')).json().deliveries;
      assert.equal(all.length, 3);
      assert.deepEqual(all.map((d: { eventId: string }) => d.eventId), [...ids].reverse(), 'newest first, no other app’s');
      assert.equal((await call('GET', '/v1/webhooks/deliveries?limit=1')).json().deliveries.length, 1);
      const pending = (await call('GET', '/v1/webhooks/deliveries?status=Pending')).json().deliveries;
      assert.equal(pending.length, 1);
      assert.equal(pending[0].lastError, 'answered 500');
      assert.ok(pending[0].nextAttemptAt > new Date(server.clock.now()).toISOString());
      assert.equal((await call('GET', '/v1/webhooks/deliveries?status=Delivered')).json().deliveries.length, 2);
      assert.equal((await call('GET', '/v1/webhooks/deliveries?limit=1000')).statusCode, 400);

      const foreign = (await server.services.database.db.selectFrom('webhook_deliveries').select('id').where('app_id', '=', other.clientId).execute())[0]!.id;
      assert.equal((await call('GET', `/v1/webhooks/deliveries/${foreign}`)).statusCode, 404);
      assert.equal((await call('POST', `/v1/webhooks/deliveries/${foreign}/redeliver`)).statusCode, 404);
    });

    it('redelivers a failed delivery as a new delivery with the same event id', async () => {
      receiver.answer = (n) => (n < 10 ? 500 : 200);
      const [eventId] = await recordTestEvents(server.services.database, server.clock, app.clientId, 1);
      for (let i = 0; i < 10; i++) {
        await server.services.webhooks.runDue();
        server.clock.advance(12 * 3600_000);
      }
      const [failed] = (await call('GET', '/v1/webhooks/deliveries')).json().deliveries;
      assert.equal(failed.status, 'Failed');
      assert.equal(failed.attempts, 10);

      const res = await call('POST', `/v1/webhooks/deliveries/${failed.id}/redeliver`);
      assert.equal(res.statusCode, 202, res.body);
      const again = res.json();
      assert.notEqual(again.id, failed.id);
      assert.equal(again.eventId, eventId);
      assert.equal(again.redeliveryOf, failed.id);
      assert.equal(again.status, 'Pending');
      await server.services.webhooks.runDue();
      assert.equal(receiver.received.length, 11);
      assert.equal(receiver.received[10]!.headers['x-aiia-eventid'], eventId);
      assert.equal((await call('GET', `/v1/webhooks/deliveries/${again.id}`)).json().status, 'Delivered');
      assert.equal((await call('GET', `/v1/webhooks/deliveries/${failed.id}`)).json().status, 'Failed', 'the failed one stays visible');
    });

    it('brings a pending delivery’s retry forward on redeliver', async () => {
      receiver.answer = (n) => (n === 0 ? 503 : 200);
      await recordTestEvents(server.services.database, server.clock, app.clientId, 1);
      await server.services.webhooks.runDue();
      const [pending] = (await call('GET', '/v1/webhooks/deliveries')).json().deliveries;
      const res = await call('POST', `/v1/webhooks/deliveries/${pending.id}/redeliver`);
      assert.equal(res.statusCode, 202);
      assert.equal(res.json().id, pending.id);
      assert.equal(res.json().nextAttemptAt, new Date(server.clock.now()).toISOString());
      await server.services.webhooks.runDue();
      assert.equal(receiver.received.length, 2);
    });

    it('says so when the app has no webhook URL', async () => {
      await server.services.database.db.updateTable('apps').set({ webhook_url: null, webhook_secret: null }).where('id', '=', app.clientId).execute();
      const res = await call('POST', '/v1/webhooks/test');
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error_description, /no webhook URL/);
    });

    it('documents the API under the Webhooks tag', async () => {
      const doc = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json();
      assert.ok(doc.tags.some((t: { name: string }) => t.name === 'Webhooks'));
      for (const path of ['/v1/webhooks/deliveries', '/v1/webhooks/deliveries/{deliveryId}', '/v1/webhooks/deliveries/{deliveryId}/redeliver', '/v1/webhooks/test']) {
        assert.ok(doc.paths[path], path);
      }
      assert.ok(doc.components.schemas.WebhookDelivery);
    });
  });
}

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { classifyAddress, resolveWebhookTarget, type AddressPolicy, type HostResolver } from '../../src/webhooks/address-guard.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';
import { capturingLogger, createDispatcher, createWebhookApp, LogCapture, recordTestEvents } from './helpers.js';
import { startReceiver, type TestReceiver } from './receiver.js';

const GUARD_ON: AddressPolicy = { allowPrivate: false, allowLoopback: false };
const SANDBOX: AddressPolicy = { allowPrivate: false, allowLoopback: true };

/** A DNS that answers what the test says: names an attacker controls, pointing wherever they like. */
function fakeDns(table: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (answers === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
  return Object.assign(resolver, { calls });
}

describe('the webhook SSRF guard: address ranges', () => {
  const cases: Array<[string, string]> = [
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.5.6.7', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.5', 'documentation'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:93.184.216.34', 'public'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:0a00:0001::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['[::1]', 'loopback'],
  ];
  for (const [address, range] of cases) {
    it(`${address} is ${range}`, () => assert.equal(classifyAddress(address), range));
  }
});

describe('the webhook SSRF guard: resolving a webhook URL', () => {
  const dns = fakeDns({
    'hooks.example.com': ['93.184.216.34'],
    'metadata.attacker.test': ['169.254.169.254'],
    'loopback.attacker.test': ['127.0.0.1'],
    'mixed.attacker.test': ['93.184.216.34', '10.0.0.7'],
    'six.attacker.test': ['::ffff:169.254.169.254'],
  });

  it('resolves a public name to the address it will connect to', async () => {
    const target = await resolveWebhookTarget('https://hooks.example.com/aiia', GUARD_ON, dns);
    assert.equal(target.address, '93.184.216.34');
    assert.equal(target.host, 'hooks.example.com');
  });

  for (const [url, pattern] of [
    ['https://metadata.attacker.test/latest/meta-data/', /169\.254\.169\.254, a metadata address/],
    ['https://loopback.attacker.test/', /127\.0\.0\.1, a loopback address/],
    ['https://mixed.attacker.test/', /10\.0\.0\.7, a private address/],
    ['https://six.attacker.test/', /metadata/],
    ['https://169.254.169.254/latest/meta-data/', /metadata/],
    ['https://127.0.0.1:8443/', /loopback/],
    ['https://[::1]/', /loopback/],
    ['https://[::ffff:a9fe:a9fe]/', /metadata/],
    ['https://10.0.0.1/', /private/],
    ['http://hooks.example.com/aiia', /must use https/],
    ['ftp://hooks.example.com/', /not https/],
  ] as const) {
    it(`refuses ${url}`, async () => {
      await assert.rejects(resolveWebhookTarget(url, GUARD_ON, dns), (error: Error) => {
        assert.equal(error.name, 'WebhookTargetRefused');
        assert.match(error.message, pattern);
        return true;
      });
    });
  }

  it('allows loopback, and plain http to it, only in the sandbox; metadata never', async () => {
    assert.equal((await resolveWebhookTarget('http://127.0.0.1:4000/hook', SANDBOX, dns)).address, '127.0.0.1');
    assert.equal((await resolveWebhookTarget('http://loopback.attacker.test:4000/hook', SANDBOX, dns)).address, '127.0.0.1');
    await assert.rejects(resolveWebhookTarget('http://127.0.0.1:4000/hook', GUARD_ON, dns), /loopback/);
    await assert.rejects(resolveWebhookTarget('https://metadata.attacker.test/', { allowPrivate: true, allowLoopback: true }, dns), /metadata/);
    assert.equal((await resolveWebhookTarget('https://10.0.0.1/', { allowPrivate: true, allowLoopback: false }, dns)).address, '10.0.0.1');
    await assert.rejects(resolveWebhookTarget('http://10.0.0.1/', { allowPrivate: true, allowLoopback: false }, dns), /https/);
  });
});

for (const dialect of DIALECTS) {
  describe(`the webhook SSRF guard in delivery [${dialect}]`, () => {
    let testDb: TestDatabase;
    let clock: ManualClock;
    let receiver: TestReceiver;
    let logs: LogCapture;

    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
      clock = new ManualClock();
      receiver = await startReceiver();
      logs = new LogCapture();
    });
    afterEach(async () => {
      await receiver.close();
      await testDb.drop();
    });

    const pointAppAt = async (appId: string, url: string) => testDb.database.db.updateTable('apps').set({ webhook_url: url }).where('id', '=', appId).execute();

    for (const [name, address] of [
      ['169.254.169.254 (cloud metadata)', '169.254.169.254'],
      ['127.0.0.1 (the receiver’s own loopback)', '127.0.0.1'],
    ] as const) {
      it(`refuses and logs a webhook URL whose name resolves to ${name}, with the guard on`, async () => {
        const app = await createWebhookApp(testDb.database, clock, receiver.url);
        await pointAppAt(app.clientId, `https://innocent.attacker.test:${receiver.port}/hooks?token=app-secret-in-url`);
        const dns = fakeDns({ 'innocent.attacker.test': [address] });
        const dispatcher = createDispatcher(testDb.database, clock, { policy: GUARD_ON, resolver: dns, logger: capturingLogger(logs) });
        const [eventId] = await recordTestEvents(testDb.database, clock, app.clientId, 1);
        await dispatcher.runDue();
        await dispatcher.stop();

        assert.equal(receiver.received.length, 0, 'nothing was sent');
        const [row] = await testDb.database.db.selectFrom('webhook_deliveries').selectAll().execute();
        assert.equal(row!.status, 'failed', 'refused for good: retrying the same address cannot help');
        assert.match(row!.last_error!, new RegExp(`refused: innocent\\.attacker\\.test resolves to ${address.replace(/\./g, '\\.')}`));
        assert.equal(dispatcher.counters.refused, 1);

        const refusal = logs.lines.find((l) => l.msg === 'webhook refused: target not allowed');
        assert.ok(refusal, 'the refusal is logged');
        assert.equal(refusal.eventId, eventId);
        assert.equal(refusal.appId, app.clientId);
        assert.equal(refusal.host, 'innocent.attacker.test');
        assert.equal(refusal.address, address);
        assert.doesNotMatch(logs.text(), /app-secret-in-url/, 'never the URL’s query');
      });
    }

    it('refuses an IP-literal URL to the receiver on loopback with the guard on', async () => {
      const app = await createWebhookApp(testDb.database, clock, receiver.url);
      const dispatcher = createDispatcher(testDb.database, clock, { policy: GUARD_ON, logger: capturingLogger(logs) });
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      await dispatcher.runDue();
      await dispatcher.stop();
      assert.equal(receiver.received.length, 0);
      assert.ok(logs.lines.some((l) => l.msg === 'webhook refused: target not allowed' && l.address === '127.0.0.1'));
    });

    it('connects to the address it checked, resolving once per try (no DNS rebinding between check and connect)', async () => {
      const app = await createWebhookApp(testDb.database, clock, receiver.url);
      await pointAppAt(app.clientId, `http://rebind.attacker.test:${receiver.port}/hooks/aiia`);
      // The system's DNS knows no such name: only the checked address can have been used.
      const dns = fakeDns({ 'rebind.attacker.test': ['127.0.0.1'] });
      const dispatcher = createDispatcher(testDb.database, clock, { policy: SANDBOX, resolver: dns });
      await recordTestEvents(testDb.database, clock, app.clientId, 1);
      await dispatcher.runDue();
      await dispatcher.stop();
      assert.equal(receiver.received.length, 1);
      assert.equal(receiver.received[0]!.headers.host, `rebind.attacker.test:${receiver.port}`, 'the Host header names the URL’s host');
      assert.deepEqual(dns.calls, ['rebind.attacker.test']);
    });
  });
}

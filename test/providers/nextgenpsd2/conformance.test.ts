import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../../helpers/database.js';
import { checkProviderConformance } from '../conformance.js';
import { APPROACHES, PASSWORD, PUBLIC_URL, RETURN_URL, assertWireConforms, xs2aDriver, xs2aFixture, type Xs2aFixture } from './xs2a-fixture.js';

/**
 * The provider conformance suite, for the NextGenPSD2 connector against the simulated bank in each
 * SCA approach, over mutual TLS with sealed requests, as against a real bank. Both sides check every
 * exchange against the Berlin Group's OpenAPI file; none may break it.
 */
for (const dialect of DIALECTS) {
  describe(`NextGenPSD2 connector: provider conformance against the simulated bank (${dialect})`, () => {
    let fixture: Xs2aFixture;
    before(async () => {
      fixture = await xs2aFixture(dialect);
    });
    after(async () => {
      await fixture.close();
    });

    for (const approach of APPROACHES) {
      test(`${approach.toLowerCase()} approach`, async () => {
        const provider = fixture.provider(approach);
        const from = fixture.sent.length;
        await checkProviderConformance(provider, {
          driver: xs2aDriver(fixture),
          users: [`alice-${approach.toLowerCase()}`, `bob-${approach.toLowerCase()}`],
          now: fixture.clock.now(),
          publicUrl: PUBLIC_URL,
          returnUrl: RETURN_URL,
          secrets: [PASSWORD],
        });
        const calls = fixture.sent.slice(from);
        const operations = new Set(calls.map((e) => e.operationId));
        for (const op of ['createConsent', 'getConsentInformation', 'getAccountList', 'getTransactionList']) assert.ok(operations.has(op), `${op} was called`);
        if (approach !== 'EMBEDDED') assert.ok(operations.has('getConsentStatus'), 'the consent status was asked for');
        if (approach !== 'DECOUPLED') assert.ok(operations.has('getBalances'), 'balances were read one by one');
        if (approach === 'EMBEDDED') assert.ok(operations.has('updateConsentsPsuData'), 'the SCA method and code were sent');
        // Pages: the simulated bank answers 100 entries a page; every page was read.
        assert.ok(calls.some((e) => e.request.query.has('pageIndex')), '`_links.next` was followed');
      });
    }

    test('every request and every answer matched the specification, on both sides', () => {
      assert.ok(fixture.sent.length > 50 && fixture.received.length === fixture.sent.length, `${fixture.sent.length} calls sent, ${fixture.received.length} received`);
      assertWireConforms(fixture);
    });

    test('every call went over mutual TLS, sealed, with a fresh X-Request-ID', () => {
      assert.ok(fixture.received.every((e) => e.clientCertificate && e.signed));
      const ids = fixture.sent.map((e) => e.request.headers['x-request-id']);
      assert.equal(new Set(ids).size, ids.length);
    });

    test('reads for the user carry the PSU headers; reads for Ferry carry none', () => {
      const reads = fixture.sent.filter((e) => e.operationId === 'getAccountList' || e.operationId === 'getTransactionList' || e.operationId === 'getBalances');
      // The login's own account list is the user's; the conformance suite's reads stand for the sync.
      assert.ok(reads.some((e) => e.request.headers['psu-ip-address'] === '192.0.2.10'));
      assert.ok(reads.some((e) => e.request.headers['psu-ip-address'] === undefined));
      assert.ok(fixture.sent.filter((e) => e.operationId === 'createConsent').every((e) => e.request.headers['psu-ip-address'] !== undefined && e.request.headers['consent-id'] === undefined));
      assert.ok(reads.every((e) => typeof e.request.headers['consent-id'] === 'string'));
    });
  });
}

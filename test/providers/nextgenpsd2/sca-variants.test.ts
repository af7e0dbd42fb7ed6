import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { NextGenPsd2Provider } from '../../../src/providers/nextgenpsd2/nextgenpsd2-provider.js';
import type { Xs2aExchange } from '../../../src/providers/nextgenpsd2/xs2a-client.js';
import { sandboxXs2aBanks } from '../../../src/providers/sandbox/xs2a/sandbox-xs2a-banks.js';
import { startXs2aSandboxBank, type StandaloneXs2aBank } from '../../../src/providers/sandbox/xs2a/standalone.js';
import type { Xs2aSandboxExchange } from '../../../src/providers/sandbox/xs2a/xs2a-sandbox-routes.js';
import type { LoginContext, LoginStep } from '../../../src/providers/types.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../helpers/database.js';

/**
 * Variants banks use that the main fixture's bank does not: a redirect that needs an explicit start
 * of the authorisation (`startAuthorisation` instead of `scaRedirect`), and an embedded user with a
 * single SCA method, chosen by the bank (`scaMethodSelected` and the challenge at once). Over plain
 * HTTP on loopback, as Ferry calls its own sandbox bank.
 */
for (const dialect of DIALECTS) {
  describe(`NextGenPSD2 SCA variants (${dialect})`, () => {
    let test_: TestDatabase;
    let bank: StandaloneXs2aBank;
    const clock = new ManualClock();
    const sent: Xs2aExchange[] = [];
    const received: Xs2aSandboxExchange[] = [];
    const ctx = (): LoginContext => ({ culture: 'de', publicUrl: 'https://ferry.test', returnUrl: 'https://ferry.test/flow/x/callback', now: () => clock.now(), psu: { ipAddress: '198.51.100.7' } });
    let providers: NextGenPsd2Provider[];

    before(async () => {
      test_ = await createTestDatabase(dialect);
      bank = await startXs2aSandboxBank({ db: test_.database.db, clock, explicitStart: true, embeddedMethods: 1, onExchange: (e) => received.push(e) });
      providers = sandboxXs2aBanks(bank.url).map((b) => new NextGenPsd2Provider(b, { db: test_.database.db, onExchange: (e) => sent.push(e) }));
    });
    after(async () => {
      await bank.close();
      await test_.drop();
    });

    test('redirect with an explicit start: Ferry starts the authorisation, then redirects', async () => {
      const step = await providers[0]!.startLogin(ctx());
      assert.equal(step.kind, 'redirect');
      assert.deepEqual(sent.map((e) => e.operationId), ['createConsent', 'startConsentAuthorisation']);
      assert.match((step as Extract<LoginStep, { kind: 'redirect' }>).url, new RegExp(`^${bank.url}/sca/[A-Za-z0-9_-]+$`));
    });

    test('embedded with one SCA method: straight to the code, in the user’s language', async () => {
      const provider = providers[2]!;
      const first = await provider.startLogin(ctx());
      assert.equal(first.kind, 'form');
      assert.equal((first as Extract<LoginStep, { kind: 'form' }>).title, 'Bei Sandbox NextGenPSD2 Bank (embedded) anmelden');
      const code = await provider.continueLogin((first as Extract<LoginStep, { kind: 'form' }>).state, { kind: 'form', fields: { psuId: 'ute', password: 'pw' } }, ctx());
      assert.equal(code.kind, 'form');
      const otp = (code as Extract<LoginStep, { kind: 'form' }>).fields[0]!;
      assert.deepEqual([otp.name, otp.type, otp.hint, otp.inputMode], ['otp', 'otp', 'Sandbox: the code is 123456.', 'numeric']);
      const done = await provider.continueLogin((code as Extract<LoginStep, { kind: 'form' }>).state, { kind: 'form', fields: { otp: '123 456' } }, ctx());
      assert.equal(done.kind, 'done');
      assert.deepEqual(
        sent.filter((e) => e.operationId === 'createConsent').map((e) => [e.request.headers['tpp-redirect-preferred'], e.request.headers['psu-id'], e.request.headers['psu-ip-address']]).at(-1),
        ['false', 'ute', '198.51.100.7'],
      );
    });

    test('both sides found every exchange within the specification', () => {
      assert.deepEqual(sent.flatMap((e) => [...e.requestProblems, ...e.responseProblems]), []);
      assert.deepEqual(received.flatMap((e) => [...e.requestProblems, ...e.responseProblems]), []);
    });
  });
}

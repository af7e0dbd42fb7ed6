import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BankProvider, ProviderConnection } from '../../src/providers/types.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { WrappedBank } from '../helpers/wrapped-bank.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

/** TestDataBank1 under another id, with a consent at the bank that Ferry can end (as NextGenPSD2 banks have). */
class EndableBank extends WrappedBank {
  ended: ProviderConnection[] = [];
  fail = false;
  constructor() {
    super('EndableBank', 'Endable Bank');
  }
  revokeConnection: NonNullable<BankProvider['revokeConnection']> = async (connection) => {
    this.ended.push(connection);
    if (this.fail) throw new Error('the bank is down');
  };
}

for (const dialect of DIALECTS) {
  describe(`revoking a consent ends it at the bank too [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    let bank: EndableBank;

    beforeEach(async () => {
      bank = new EndableBank();
      server = await createTestServer(dialect, {}, { extraProviders: [bank] });
      bank.inner = server.services.providers.get('TestDataBank1')!;
      client = await createTestClient(server);
    });
    afterEach(() => server.close());

    const revokeByApp = (consentId: string) => server.app.inject({ method: 'DELETE', url: `/v1/consents/${consentId}`, headers: { authorization: client.basic } });

    it('DELETE /v1/consents/{id}: erased in Ferry, and the bank is told to end its consent, once', async () => {
      const consent = await connectConsent(server, client, { providerId: 'EndableBank', username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      const answer = await revokeByApp(consent.consentId);
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.json().receipt.reason, 'ConsentRevoked');
      assert.equal(bank.ended.length, 1);
      assert.equal(bank.ended[0]!.providerId, 'EndableBank', 'the connection as Ferry stored it');
      assert.equal((await revokeByApp(consent.consentId)).statusCode, 200, 'revoking again answers the receipt');
      assert.equal(bank.ended.length, 1, 'and does not call the bank again');
    });

    it('a bank that fails to end its consent does not stop the revocation', async () => {
      bank.fail = true;
      const consent = await connectConsent(server, client, { providerId: 'EndableBank', username: 'jane', scopes: 'accounts offline_access' });
      const answer = await revokeByApp(consent.consentId);
      assert.equal(answer.statusCode, 200);
      const read = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${consent.accessToken}` } });
      assert.equal(read.statusCode, 401);
      assert.equal(bank.ended.length, 1);
    });

    it('another app cannot revoke the consent, and the bank hears nothing', async () => {
      const consent = await connectConsent(server, client, { providerId: 'EndableBank', username: 'jane' });
      const other = await createTestClient(server);
      const answer = await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consent.consentId}`, headers: { authorization: other.basic } });
      assert.equal(answer.statusCode, 404);
      assert.equal(bank.ended.length, 0);
    });
  });
}

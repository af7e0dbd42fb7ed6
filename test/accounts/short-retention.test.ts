import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RETENTION_SWEEP_JOB } from '../../src/consents/retention.js';
import { connectConsent } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

for (const dialect of DIALECTS) {
  describe(`a short one-time retention pulls the sweep forward to the deadline (issue #6) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    beforeEach(async () => {
      server = await createTestServer(dialect, { FERRY_ONE_TIME_RETENTION: '2s' });
      client = await createTestClient(server);
      await server.services.startBackgroundWork();
      await server.services.jobs.stop();
      await server.services.webhooks.stop();
    });
    afterEach(async () => {
      await server.close();
    });

    const sweepAt = async () =>
      (await server.services.database.db.selectFrom('jobs').select('run_at').where('dedupe_key', '=', RETENTION_SWEEP_JOB).where('status', '=', 'pending').executeTakeFirstOrThrow()).run_at;

    it('the pending sweep runs at the new consent’s deadline, not at its next once-a-minute round', async () => {
      await server.services.jobs.runDue(); // the start-up sweep: nothing to erase, next round in a minute
      assert.equal(await sweepAt(), server.clock.now() + 60_000);
      server.clock.advance(5_000);
      const consent = await connectConsent(server, client, { username: 'short-lived' });
      const row = await server.services.database.db.selectFrom('consents').select('delete_at').where('id', '=', consent.consentId).executeTakeFirstOrThrow();
      assert.equal(row.delete_at, server.clock.now() + 2000);
      assert.equal(await sweepAt(), row.delete_at);

      server.clock.set(row.delete_at!);
      await server.services.jobs.runDue();
      assert.equal(await server.services.database.db.selectFrom('consents').select('id').where('id', '=', consent.consentId).executeTakeFirst(), undefined);
      assert.ok(await server.services.database.db.selectFrom('deletion_receipts').select('consent_id').where('consent_id', '=', consent.consentId).executeTakeFirst());
    });
  });
}

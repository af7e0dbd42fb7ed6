import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eraseConsent } from '../../src/consents/erase.js';
import { syncConsent, type SyncReport } from '../../src/data/sync.js';
import type { BankProvider } from '../../src/providers/types.js';
import { WrappedBank } from '../helpers/wrapped-bank.js';
import { connectConsent } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

/**
 * A bank that answers like TestDataBank1, with two tricks: while it answers one sync's first read
 * of transactions it can let a second sync of the same consent run from start to end (as when a
 * job's lease ran out, or `POST /v1/update` came, while a slow bank was still answering), and it
 * can list one transaction twice.
 */
class InterleavingBank extends WrappedBank {
  duringFirstRead: (() => Promise<void>) | null = null;
  listTwice = false;
  constructor() {
    super('InterleavingBank', 'Interleaving Bank');
  }
  override fetchTransactions: BankProvider['fetchTransactions'] = async (connection, accountId, range, ctx) => {
    const answer = await this.inner.fetchTransactions(this.unwrap(connection), accountId, range, ctx);
    const during = this.duringFirstRead;
    this.duringFirstRead = null;
    if (during !== null) await during();
    return this.listTwice ? [...answer, answer[0]!] : answer;
  };
}

for (const dialect of DIALECTS) {
  describe(`overlapping syncs of one consent store each bank transaction once (fencing token) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    let bank: InterleavingBank;

    beforeEach(async () => {
      bank = new InterleavingBank();
      server = await createTestServer(dialect, {}, { extraProviders: [bank] });
      bank.inner = server.services.providers.get('TestDataBank1')!;
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const sync = (consentId: string) => syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consentId);
    const stored = async (consentId: string) => {
      const rows = await server.services.database.db
        .selectFrom('transactions')
        .select(['account_id', 'provider_transaction_id'])
        .where('consent_id', '=', consentId)
        .execute();
      return { count: rows.length, distinct: new Set(rows.map((r) => `${r.account_id} ${r.provider_transaction_id}`)).size };
    };

    it('a sync that starts while another waits for the bank takes over; the first stores nothing more', async () => {
      const { consentId } = await connectConsent(server, client, { providerId: 'InterleavingBank', username: 'jane', scopes: 'accounts offline_access' });
      // The first sync has read what is stored (nothing) and waits for the bank; meanwhile the second runs whole.
      let second: SyncReport | undefined;
      bank.duringFirstRead = async () => {
        second = await sync(consentId);
      };
      const first = await sync(consentId);
      assert.equal(second?.status, 'done');
      assert.deepEqual(first, { status: 'skipped', reason: 'a later sync of this consent took over' });
      const { count, distinct } = await stored(consentId);
      assert.ok(count > 0, 'the second sync stored the history');
      assert.equal(count, distinct, 'no bank transaction twice');
      // A third sync afterwards finds everything stored and adds nothing.
      const third = await sync(consentId);
      assert.equal(third.status, 'done');
      assert.equal((await stored(consentId)).count, count);
    });

    it('a consent erased while its sync waits for the bank: the sync says so and leaves no rows behind', async () => {
      const { consentId } = await connectConsent(server, client, { providerId: 'InterleavingBank', username: 'jane', scopes: 'accounts offline_access' });
      const db = server.services.database.db;
      const accountIds = (await db.selectFrom('accounts').select('id').where('consent_id', '=', consentId).execute()).map((a) => a.id);
      assert.ok(accountIds.length > 0);
      bank.duringFirstRead = async () => {
        const consent = await db.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
        await db.transaction().execute((trx) => eraseConsent(trx, server.services.database.capabilities, consent, 'ConsentRevoked', server.clock.now()));
      };
      assert.deepEqual(await sync(consentId), { status: 'skipped', reason: 'consent erased during the sync' });
      assert.equal((await db.selectFrom('transactions').select('id').where('account_id', 'in', accountIds).execute()).length, 0);
      assert.equal((await stored(consentId)).count, 0);
      assert.equal((await db.selectFrom('accounts').select('id').where('consent_id', '=', consentId).execute()).length, 0);
    });

    it('stores a transaction the bank lists twice once', async () => {
      const { consentId } = await connectConsent(server, client, { providerId: 'InterleavingBank', username: 'jane', scopes: 'accounts offline_access' });
      bank.listTwice = true;
      assert.equal((await sync(consentId)).status, 'done');
      const { count, distinct } = await stored(consentId);
      assert.ok(count > 0);
      assert.equal(count, distinct);
    });
  });
}

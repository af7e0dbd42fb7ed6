import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { eraseConsent } from '../../src/consents/erase.js';
import { connectConsent } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

/**
 * A sync writes its transactions in chunks, each in a transaction that first checks the
 * account's fence (src/db/database.ts `insertRows`). On PostgreSQL such a chunk can be in flight
 * while an erasure of the consent runs on another connection. The erasure locks the accounts
 * before it deletes anything, so it waits for the chunk and then erases its rows too.
 * (On SQLite one writer at a time makes the interleaving impossible: the erasure's write
 * transaction starts after the chunk's has committed.)
 */
for (const dialect of DIALECTS.filter((d) => d === 'postgres')) {
  describe(`an erasure that meets a sync's chunk in flight leaves nothing behind [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    it('erases the rows a chunk committed while the erasure was under way', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      const db = server.services.database.db;
      const account = await db.selectFrom('accounts').selectAll().where('consent_id', '=', consentId).orderBy('position').executeTakeFirstOrThrow();
      const consent = await db.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
      let erasure: Promise<unknown> | undefined;
      let erased = false;
      // The sync's chunk: its fence check (an UPDATE of the account row, as insertRows writes it), then its rows.
      await db.transaction().execute(async (chunk) => {
        const checked = await sql`update accounts set sync_fence = sync_fence where id = ${account.id} and sync_fence = ${account.sync_fence}`.execute(chunk);
        assert.equal(Number(checked.numAffectedRows), 1);
        await chunk
          .insertInto('transactions')
          .values({
            id: '00000000-0000-7000-8000-000000000001',
            account_id: account.id,
            consent_id: consentId,
            provider_transaction_id: 'in-flight-1',
            date: '2026-12-01',
            ordinal: 1_000_000,
            value_date: null,
            text: 'Written by a sync while its consent was erased',
            original_text: 'Written by a sync while its consent was erased',
            amount_minor: -4200,
            currency: account.currency,
            balance_minor: null,
            state: 'Booked',
            type: 'Card',
            counterparty_name: 'Jane Doe',
            category: null,
            is_deleted: 0,
            created_at: server.clock.now(),
            updated_at: server.clock.now(),
          })
          .execute();
        // The erasure starts on another connection of the pool while the chunk is uncommitted.
        erasure = db.transaction().execute((trx) => eraseConsent(trx, server.services.database.capabilities, consent, 'ConsentRevoked', server.clock.now())).then(() => (erased = true));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(erased, false, 'the erasure waits for the chunk in flight');
      });
      await erasure;
      const left = await db.selectFrom('transactions').select('id').where('account_id', '=', account.id).execute();
      assert.deepEqual(left, [], 'no transaction of the erased consent is left, the chunk’s included');
      assert.equal((await db.selectFrom('accounts').select('id').where('consent_id', '=', consentId).execute()).length, 0);
    });
  });
}

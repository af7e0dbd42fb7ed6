import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { insertRows, updateRows, WriteFenceLost, type WriteFence } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';

const row = (i: number, account = 'a1'): Database['transactions'] => ({
  id: `t${String(i).padStart(5, '0')}`,
  account_id: account,
  consent_id: 'c1',
  provider_transaction_id: `p${i}`,
  date: `2026-01-${String((i % 28) + 1).padStart(2, '0')}`,
  ordinal: i,
  value_date: i % 3 === 0 ? null : '2026-01-01',
  text: `Text ${i} "quoted" \\ æøå 😀`,
  original_text: `ORIGINAL ${i}\nline`,
  amount_minor: -9_007_199_254_740_991 + i,
  currency: 'DKK',
  balance_minor: i % 2 === 0 ? null : i * 100,
  state: 'Booked',
  type: 'Card',
  counterparty_name: null,
  category: 'groceries',
  is_deleted: 0,
  created_at: 1_795_821_714_105,
  updated_at: 1_795_821_714_105,
});

for (const dialect of DIALECTS) {
  describe(`bulk writes [${dialect}]`, () => {
    let testDb: TestDatabase;
    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
    });
    afterEach(async () => {
      await testDb.drop();
    });
    const all = () => testDb.database.db.selectFrom('transactions').selectAll().orderBy('id').execute();

    it('inserts and updates thousands of rows exactly, values of every kind', async () => {
      const rows = Array.from({ length: 4321 }, (_, i) => row(i));
      await insertRows(testDb.database.db, 'transactions', rows);
      assert.deepEqual(await all(), rows);
      const changed = rows.filter((_, i) => i % 7 === 0).map((r) => ({ id: r.id, text: `${r.text} changed`, balance_minor: null, is_deleted: 1, updated_at: 2 }));
      await updateRows(testDb.database.db, 'transactions', 'id', changed);
      const byId = new Map(changed.map((c) => [c.id, c]));
      assert.deepEqual(
        await all(),
        rows.map((r) => ({ ...r, ...byId.get(r.id) })),
      );
    });

    it('through a transaction, writes inside it (and rolls back with it)', async () => {
      await assert.rejects(
        testDb.database.db.transaction().execute(async (trx) => {
          await insertRows(trx, 'transactions', [row(1), row(2)]);
          assert.equal((await trx.selectFrom('transactions').select('id').execute()).length, 2);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await all(), []);
    });

    it('never writes inside another caller’s open transaction', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const other = testDb.database.db.transaction().execute(async (trx) => {
        await trx.insertInto('transactions').values(row(0, 'other')).execute();
        await held;
        throw new Error('roll back');
      });
      const bulk = insertRows(testDb.database.db, 'transactions', Array.from({ length: 3000 }, (_, i) => row(i + 1)));
      setTimeout(release, 20);
      await assert.rejects(other, /roll back/);
      await bulk;
      const ids = (await all()).map((r) => r.id);
      assert.equal(ids.length, 3000, 'the bulk rows are there; the other transaction’s row rolled back');
      assert.ok(!ids.includes(row(0).id));
    });

    describe('fenced inserts (a fencing token on an account row)', () => {
      const fence = (value: number): WriteFence => ({ table: 'accounts', column: 'sync_fence', id: 'a1', value });
      beforeEach(async () => {
        await testDb.database.db
          .insertInto('accounts')
          .values({ id: 'a1', consent_id: 'c1', provider_account_id: 'p', provider_id: 'TestDataBank1', position: 0, name: 'n', owner: 'o', type: 'Consumption', currency: 'DKK', booked_minor: null, available_minor: null, bban: null, bban_bank_code: null, bban_account_number: null, bban_type: null, iban: null, card: null, sync_status: 'Syncing', last_synchronized: null, is_orphaned: 0, group_id: null, group_name: null, created_at: 1, updated_at: 1, sync_fence: 7 })
          .execute();
      });

      it('writes every chunk while the fence holds, and nothing once it has moved on', async () => {
        const rows = Array.from({ length: 4321 }, (_, i) => row(i));
        await insertRows(testDb.database.db, 'transactions', rows, fence(7));
        assert.equal((await all()).length, rows.length);
        await assert.rejects(insertRows(testDb.database.db, 'transactions', [row(9001), row(9002)], fence(6)), WriteFenceLost);
        assert.equal((await all()).length, rows.length, 'a stale fence wrote nothing');
        const account = await testDb.database.db.selectFrom('accounts').select('sync_fence').where('id', '=', 'a1').executeTakeFirstOrThrow();
        assert.equal(Number(account.sync_fence), 7, 'the check leaves the fence as it was');
      });

      it('stops at the chunk after a newer writer moves the fence on', async () => {
        const rows = Array.from({ length: 6000 }, (_, i) => row(i));
        // Refused, and the refusal handled from the start (it may come before the newer writer's update returns).
        const refused = assert.rejects(insertRows(testDb.database.db, 'transactions', rows, fence(7)), WriteFenceLost);
        // The newer writer takes the fence while the first chunk is being written (or just after).
        await testDb.database.db.updateTable('accounts').set({ sync_fence: 8 }).where('id', '=', 'a1').execute();
        await refused;
        const written = (await all()).length;
        assert.ok(written < rows.length, `stopped early: ${written} of ${rows.length}`);
        assert.equal(written % 2000, 0, 'whole chunks only');
      });

      it('through a transaction too', async () => {
        await testDb.database.db.transaction().execute(async (trx) => {
          await insertRows(trx, 'transactions', [row(1), row(2)], fence(7));
          await assert.rejects(insertRows(trx, 'transactions', [row(3)], fence(8)), WriteFenceLost);
        });
        assert.deepEqual((await all()).map((r) => r.id), [row(1).id, row(2).id]);
      });
    });
  });
}

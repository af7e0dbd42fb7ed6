import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { preparedFor, transact, type QueryParam } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';

const setting = (kysely: Kysely<Database>, p: QueryParam<{ key: string; value: string; old: string }>) =>
  kysely.updateTable('settings').set({ value: p('value') }).where('key', '=', p('key')).where('value', '=', p('old'));

for (const dialect of DIALECTS) {
  describe(`prepared writes [${dialect}]`, () => {
    let testDb: TestDatabase;
    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
      await testDb.database.db
        .insertInto('settings')
        .values(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'a' })))
        .execute();
    });
    afterEach(async () => {
      await testDb.drop();
    });
    const values = async () => (await testDb.database.db.selectFrom('settings').select(['key', 'value']).where('key', 'like', 'k%').execute()).map((r) => r.value);

    it('say how many rows each changed, also when many run in the same turn (one commit on SQLite)', async () => {
      const write = preparedFor(testDb.database.db, 'test:setting', setting)!;
      const changed = await Promise.all(Array.from({ length: 20 }, (_, i) => write.write({ key: `k${i}`, value: 'b', old: 'a' })));
      assert.deepEqual(changed, Array(20).fill(1));
      assert.deepEqual(await values(), Array(20).fill('b'));
      // A conditional write that finds nothing to change says 0, and changes nothing.
      assert.deepEqual(await Promise.all([write.write({ key: 'k1', value: 'c', old: 'a' }), write.write({ key: 'k2', value: 'c', old: 'b' })]), [0, 1]);
      assert.equal((await values()).filter((v) => v === 'c').length, 1);
    });

    it('one failing write of a turn fails alone; the others are kept', async () => {
      const insert = preparedFor(testDb.database.db, 'test:insert', (kysely, p: QueryParam<{ key: string }>) => kysely.insertInto('settings').values({ key: p('key'), value: 'new' }))!;
      const outcomes = await Promise.allSettled([insert.write({ key: 'n1' }), insert.write({ key: 'k3' }), insert.write({ key: 'n2' })]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const keys = (await testDb.database.db.selectFrom('settings').select('key').where('value', '=', 'new').orderBy('key').execute()).map((r) => r.key);
      assert.deepEqual(keys, ['n1', 'n2']);
    });

    it('transactions of one turn: each commits its writes or, when it throws, none of them', async () => {
      const move = (key: string, fail: boolean) =>
        transact(testDb.database.db, async (trx) => {
          await trx.updateTable('settings').set({ value: 'moved' }).where('key', '=', key).execute();
          await trx.insertInto('settings').values({ key: `${key}-log`, value: 'x' }).execute();
          if (fail) throw new Error(`no ${key}`);
          return key;
        });
      const outcomes = await Promise.allSettled([move('k1', false), move('k2', true), move('k3', false), preparedFor(testDb.database.db, 'test:setting', setting)!.write({ key: 'k4', value: 'w', old: 'a' })]);
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
        ['k1', 'no k2', 'k3', 1],
      );
      const rows = await testDb.database.db.selectFrom('settings').select(['key', 'value']).where('key', 'in', ['k1', 'k2', 'k3', 'k4', 'k1-log', 'k2-log', 'k3-log']).orderBy('key').execute();
      assert.deepEqual(rows, [
        { key: 'k1', value: 'moved' },
        { key: 'k1-log', value: 'x' },
        { key: 'k2', value: 'a' },
        { key: 'k3', value: 'moved' },
        { key: 'k3-log', value: 'x' },
        { key: 'k4', value: 'w' },
      ]);
    });

    it('are not offered inside a transaction (the caller writes through it instead)', async () => {
      await testDb.database.db.transaction().execute(async (trx) => {
        assert.equal(preparedFor(trx, 'test:setting', setting), undefined);
      });
    });
  });
}

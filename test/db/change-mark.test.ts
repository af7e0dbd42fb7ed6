import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * src/db/database.ts `sqliteChangeMark`: what the data API's kept reads trust to know that nothing
 * changed (src/data/data-store.ts). A commit by another connection, in another thread or process,
 * must change it; so must this connection's own writes.
 */
describe('SQLite change mark', () => {
  let testDb: TestDatabase;
  let other: SQLite.Database;
  const mark = () => testDb.database.changeMark!();

  before(async () => {
    testDb = await createTestDatabase('sqlite');
    if (testDb.config.dialect !== 'sqlite') throw new Error('sqlite expected');
    other = new SQLite(testDb.config.file);
    other.pragma('busy_timeout = 5000');
  });
  after(async () => {
    other.close();
    await testDb.drop();
  });

  it('stays the same while nothing is written, reads included', async () => {
    const before = mark();
    other.prepare('select count(*) from apps').get();
    await testDb.database.db.selectFrom('apps').select('id').execute();
    assert.equal(mark(), before);
  });

  it('changes with every commit of another connection', () => {
    const seen = new Set([mark()]);
    for (let i = 0; i < 20; i++) {
      other.prepare('insert into settings (key, value) values (?, ?)').run(`change-mark-${i}`, 'x');
      const now = mark();
      assert.ok(!seen.has(now), `commit ${i} of the other connection left the mark as it was`);
      seen.add(now);
    }
  });

  it('changes after the other connection checkpoints and restarts the WAL, then commits', () => {
    other.pragma('wal_checkpoint(TRUNCATE)');
    const before = mark();
    other.prepare('update settings set value = ? where key = ?').run('y', 'change-mark-0');
    assert.notEqual(mark(), before);
  });

  it('changes with this connection’s own writes', async () => {
    const before = mark();
    await testDb.database.db.updateTable('settings').set({ value: 'z' }).where('key', '=', 'change-mark-1').execute();
    assert.notEqual(mark(), before);
  });

  it('does not change when another connection’s write is rolled back', () => {
    const before = mark();
    other.exec('begin immediate');
    other.prepare('update settings set value = ? where key = ?').run('rolled back', 'change-mark-2');
    other.exec('rollback');
    assert.equal(mark(), before);
  });
});

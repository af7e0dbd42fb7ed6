import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, insertRows } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';

describe('SQLite checkpoints in a worker thread', () => {
  it('the serving connection never checkpoints, yet the WAL reaches the database file, and closing removes the WAL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-checkpoint-'));
    const file = path.join(dir, 'ferry.sqlite');
    const database = await openDatabase({ dialect: 'sqlite', file });
    try {
      await migrateOrThrow(database);
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
      assert.equal(rows[0]!.wal_autocheckpoint, 0);
      const before = fs.statSync(file).size;
      // About 8 MB of settings: far past the 1,000 pages (4 MB) at which SQLite would checkpoint in the commit.
      const value = 'x'.repeat(2000);
      await insertRows(database.db, 'settings', Array.from({ length: 4000 }, (_, i) => ({ key: `k${i}`, value })));
      const deadline = Date.now() + 5000;
      while (fs.statSync(file).size < before + 8_000_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(fs.statSync(file).size >= before + 8_000_000, `the database file grew by ${fs.statSync(file).size - before} bytes`);
      const count = await database.db.selectFrom('settings').select((eb) => eb.fn.countAll<number>().as('n')).where('key', 'like', 'k%').executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 4000);
    } finally {
      await database.close();
    }
    assert.equal(fs.existsSync(`${file}-wal`), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

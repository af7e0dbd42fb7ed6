import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/main.js';
import { ManualClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/database.js';
import { mayEnterPortal } from '../../src/portal/invitations.js';
import { findOrCreateUser } from '../../src/accounts/identity.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-portal-cli-'));
const file = path.join(dir, 'ferry.sqlite');
// The CLI reads its configuration from the environment (this test file runs in its own process).
process.env.FERRY_DB_FILE = file;
process.env.DATABASE_URL = '';

/** Runs `ferry …` in this process, as bin/ferry.js does. */
async function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, { log: (l) => stdout.push(l), error: (l) => stderr.push(l) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('ferry portal (CLI)', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('invites an address and grants operator, before and after the person has an account', async () => {
    const help = await ferry('portal', 'grant-operator', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: ferry portal grant-operator EMAIL/);
    const bad = await ferry('portal', 'invite', 'not-an-address');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"not-an-address" is not an email address/);

    const invited = await ferry('portal', 'invite', 'Dev@Example.com', '--json');
    assert.equal(invited.code, 0, invited.stderr);
    assert.deepEqual(JSON.parse(invited.stdout), { email: 'dev@example.com', invited: true });
    const later = await ferry('portal', 'grant-operator', 'boss@example.com');
    assert.match(later.stdout, /boss@example\.com will be an operator from their first sign-in/);

    const database = await openDatabase({ dialect: 'sqlite', file });
    try {
      const closed = { signup: 'closed' as const, operators: [] };
      assert.equal(await mayEnterPortal(database.db, closed, 'dev@example.com'), true);
      assert.equal(await mayEnterPortal(database.db, closed, 'boss@example.com'), true);
      assert.equal(await mayEnterPortal(database.db, closed, 'someone@example.com'), false);
      await findOrCreateUser(database.db, 'dev@example.com', new ManualClock().now());
    } finally {
      await database.close();
    }
    const now = await ferry('portal', 'grant-operator', 'dev@example.com', '--json');
    assert.deepEqual(JSON.parse(now.stdout), { email: 'dev@example.com', operator: true, existingUser: true });
    const check = await openDatabase({ dialect: 'sqlite', file });
    try {
      const user = await check.db.selectFrom('users').select('is_operator').where('email', '=', 'dev@example.com').executeTakeFirstOrThrow();
      assert.equal(user.is_operator, 1);
    } finally {
      await check.close();
    }
  });
});

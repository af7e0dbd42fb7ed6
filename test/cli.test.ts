import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createApp } from '../src/apps/apps.js';
import { systemClock } from '../src/clock.js';
import { sweepExpiredConsents } from '../src/consents/retention.js';
import { openDatabase } from '../src/db/database.js';
import { migrateOrThrow } from '../src/db/migrate.js';
import { spawnFerry } from './helpers/ferry-process.js';
import { freePort } from './helpers/listen.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-'));
const env = { ...process.env, FERRY_DB_FILE: path.join(dir, 'ferry.sqlite'), DATABASE_URL: '' };

async function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/ferry.js', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the ferry CLI', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates an app and prints one JSON object with the secret, once', async () => {
    const created = await ferry('apps', 'create', '--name', 'Budget Buddy', '--redirect-uri', 'https://budget.example.com/callback', '--redirect-uri', 'https://budget.example.com/t/*', '--json');
    assert.equal(created.code, 0, created.stderr);
    const app = JSON.parse(created.stdout);
    assert.match(app.clientId, /^budget-buddy-/);
    assert.ok(app.clientSecret.length >= 43);
    assert.deepEqual(app.redirectUris, ['https://budget.example.com/callback', 'https://budget.example.com/t/*']);

    const listed = JSON.parse((await ferry('apps', 'list', '--json')).stdout);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].clientId, app.clientId);
    assert.equal(JSON.stringify(listed).includes(app.clientSecret), false, 'the secret is never shown again');

    const rotated = JSON.parse((await ferry('apps', 'rotate-secret', app.clientId, '--grace', '60', '--json')).stdout);
    assert.notEqual(rotated.clientSecret, app.clientSecret);

    const added = JSON.parse((await ferry('apps', 'add-redirect-uri', app.clientId, 'https://budget.example.com/other', '--json')).stdout);
    assert.equal(added.redirectUris.length, 3);
    const removed = JSON.parse((await ferry('apps', 'remove-redirect-uri', app.clientId, 'https://budget.example.com/other', '--json')).stdout);
    assert.equal(removed.redirectUris.length, 2);
  });

  it('refuses a wildcard in the host with a message that says why', async () => {
    const res = await ferry('apps', 'create', '--name', 'Bad', '--redirect-uri', 'https://*.example.com/callback');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /wildcard/i);
    assert.equal(res.stdout, '');
  });

  it('rotates the signing key', async () => {
    const res = await ferry('keys', 'rotate', '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.ok(JSON.parse(res.stdout).kid);
  });

  it('has --help on every command and names unknown ones', async () => {
    for (const command of [['start'], ['migrate'], ['apps', 'create'], ['apps', 'list'], ['apps', 'rotate-secret'], ['apps', 'add-redirect-uri'], ['apps', 'remove-redirect-uri'], ['keys', 'rotate']]) {
      const res = await ferry(...command, '--help');
      assert.equal(res.code, 0, command.join(' '));
      assert.match(res.stdout, /Usage: ferry /);
    }
    const unknown = await ferry('apps', 'explode');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "apps explode"/);
    const badOption = await ferry('apps', 'list', '--colour');
    assert.equal(badOption.code, 2);
  });

  it('tells the operator where deletion stands: overdue consents, receipts, the last sweep and where it ran', async () => {
    const database = await openDatabase({ dialect: 'sqlite', file: env.FERRY_DB_FILE });
    try {
      await migrateOrThrow(database);
      const before = await ferry('consents', 'stats');
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /The retention sweeper has not run yet\./);
      // A one-time consent whose deadline passed a minute ago, not yet swept.
      const { app } = await createApp(database.db, systemClock, { name: 'Stats App', redirectUris: ['https://stats.example.com/cb'] });
      const now = Date.now();
      const consent = { id: randomUUID(), app_id: app.id, user_id: randomUUID(), scopes: 'accounts', one_time: 1, provider_id: 'TestDataBank1', status: 'Active', group_id: null, group_name: null, created_at: now - 3_600_000, delete_at: now - 60_000, revoked_at: null };
      await database.db.insertInto('consents').values(consent).execute();
      const overdue = await ferry('consents', 'stats');
      assert.match(overdue.stdout, /1 one-time consent\(s\) past their deadline, the oldest since .* \(6\d s ago\)\./);
      const report = await sweepExpiredConsents({ db: database.db, capabilities: database.capabilities, clock: systemClock });
      assert.equal(report.erased, 1);
    } finally {
      await database.close();
    }
    const after = await ferry('consents', 'stats');
    assert.match(after.stdout, /1 erased \(deletion receipts\)/);
    assert.match(after.stdout, /No one-time consent is past its deadline\./);
    assert.match(after.stdout, /Last sweep \S+: erased 1 consent\(s\) in \d+ ms, in its own thread\./);
    const json = JSON.parse((await ferry('consents', 'stats', '--json')).stdout);
    assert.equal(json.lastSweep.erased, 1);
    assert.equal(json.lastSweep.ownThread, true);
  });

  it('refuses bad configuration with a message naming the variable', async () => {
    const res = await run(process.execPath, ['bin/ferry.js', 'migrate'], { env: { ...env, PORT: 'abc' } }).catch((e) => e);
    assert.equal(res.code, 78);
    assert.match(res.stderr, /PORT must be a whole number/);
  });

  it('serves its pages when started from another working directory (an operator\'s service manager)', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cwd-'));
    const port = await freePort();
    const ferry = spawnFerry(['start'], { cwd: elsewhere, env: { ...env, FERRY_DB_FILE: path.join(elsewhere, 'ferry.sqlite'), PORT: String(port), LOG_LEVEL: 'warn' } });
    try {
      await ferry.waitFor('Ferry is running');
      assert.match(ferry.output(), /Ferry is running/);
      const demo = await fetch(`http://127.0.0.1:${port}/demo`);
      assert.equal(demo.status, 200, await demo.clone().text());
      assert.match(demo.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await demo.text(), /<html/);
    } finally {
      await ferry.stop();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

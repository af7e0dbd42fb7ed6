import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyWebhook } from '../../packages/client/src/index.js';
import { systemClock } from '../../src/clock.js';
import { createTestDatabase, DIALECTS, TEST_POSTGRES_URL, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/listen.js';
import { recordTestEvents, WEBHOOK_SECRET } from './helpers.js';
import { startReceiver, type TestReceiver } from './receiver.js';

const run = promisify(execFile);
/** Try timeout of the child processes: their lease is 2 × 2 s + 5 s = 9 s. */
const TIMEOUT_SECONDS = 2;

/**
 * Ferry as real processes (`node bin/ferry.js start`) over one database: killed with SIGKILL while
 * deliveries are in flight, then restarted, it delivers every event (issue #7); two at once on
 * one PostgreSQL deliver each event once.
 */
for (const dialect of DIALECTS) {
  describe(`webhook delivery across process crashes [${dialect}]`, () => {
    let testDb: TestDatabase;
    let receiver: TestReceiver;
    let env: NodeJS.ProcessEnv;
    const children: ChildProcess[] = [];

    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
      receiver = await startReceiver();
      const database =
        testDb.config.dialect === 'sqlite'
          ? { FERRY_DB_FILE: testDb.config.file, DATABASE_URL: '' }
          : { DATABASE_URL: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${testDb.schema}`)}`, DATABASE_POOL_SIZE: '4' };
      env = { ...process.env, ...database, HOST: '127.0.0.1', LOG_LEVEL: 'warn', FERRY_DEMO: 'false', FERRY_WEBHOOK_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS), NODE_ENV: 'test' };
    });
    afterEach(async () => {
      for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await receiver.close();
      await testDb.drop();
    });

    const createAppWithCli = async () => {
      const { stdout } = await run(process.execPath, ['bin/ferry.js', 'apps', 'create', '--name', 'Crash Test', '--redirect-uri', 'https://app.example.com/cb', '--webhook-url', receiver.url, '--webhook-secret', WEBHOOK_SECRET, '--json'], { env });
      return JSON.parse(stdout).clientId as string;
    };

    const startFerry = async (): Promise<ChildProcess> => {
      const port = await freePort();
      const child = spawn(process.execPath, ['bin/ferry.js', 'start'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      // Generous: two processes start at once, each loading TypeScript, on a machine busy with other tests.
      const deadline = Date.now() + 60_000;
      while (!output.includes('Ferry is running')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`ferry start did not come up:\n${output}`);
        await sleep(50);
      }
      return child;
    };

    const waitFor = async (condition: () => boolean | Promise<boolean>, ms: number, what: string) => {
      const deadline = Date.now() + ms;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };

    const deliveryStatuses = async () => {
      const rows = await testDb.database.db.selectFrom('webhook_deliveries').select(['status', 'claimed_by']).execute();
      return { delivered: rows.filter((r) => r.status === 'delivered').length, inFlight: rows.filter((r) => r.status === 'pending' && r.claimed_by !== null).length, total: rows.length };
    };

    it('delivers every event after a kill -9 mid-delivery and a restart, each with its one event id', { timeout: 90_000 }, async () => {
      const appId = await createAppWithCli();
      const eventIds = await recordTestEvents(testDb.database, systemClock, appId, 300);
      // A slow receiver: many tries are in flight when the process dies.
      receiver.answer = () => ({ status: 200, delayMs: 400 });

      const first = await startFerry();
      await waitFor(() => receiver.received.length >= 100, 20_000, 'the first deliveries');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const atCrash = await deliveryStatuses();
      assert.ok(atCrash.delivered < 300, `some deliveries were not done at the crash (${atCrash.delivered} of 300 delivered)`);
      assert.ok(atCrash.inFlight > 0, `some were in flight at the crash (${atCrash.inFlight})`);

      receiver.answer = () => 200;
      const second = await startFerry();
      const expected = new Set(eventIds);
      await waitFor(() => eventIds.every((id) => receiver.eventIds().includes(id)), 45_000, 'every event id');
      await waitFor(async () => (await deliveryStatuses()).delivered === 300, 10_000, 'every delivery recorded as delivered');
      second.kill('SIGTERM');
      await new Promise((resolve) => second.once('exit', resolve));

      const received = receiver.eventIds();
      assert.deepEqual(new Set(received), expected, 'every event arrived, and nothing else');
      const duplicates = received.length - expected.size;
      assert.ok(duplicates <= atCrash.inFlight, `only tries in flight at the crash may repeat (${duplicates} repeats, ${atCrash.inFlight} in flight)`);
      for (const request of receiver.received) assert.ok(verifyWebhook(WEBHOOK_SECRET, request.headers, request.rawBody));
    });

    if (dialect === 'postgres') {
      it('two Ferry processes on one PostgreSQL deliver each event once', { timeout: 60_000 }, async () => {
        const appId = await createAppWithCli();
        await Promise.all([startFerry(), startFerry()]);
        const eventIds = await recordTestEvents(testDb.database, systemClock, appId, 400);
        await waitFor(async () => (await deliveryStatuses()).delivered === 400, 30_000, 'every delivery');
        assert.equal(receiver.received.length, 400, 'each event once');
        assert.deepEqual(new Set(receiver.eventIds()), new Set(eventIds));
      });
    }
  });
}

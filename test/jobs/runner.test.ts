import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { enqueueJob } from '../../src/jobs/queue.js';
import { JobRunner, type JobHandler } from '../../src/jobs/runner.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';

/**
 * A job whose handler finds the database gone (PostgreSQL restarting: bench/faults, issue 8) is a
 * warning, not an error: an operator's error alert should not fire for an outage Ferry rides out,
 * and the job runs again. A handler that fails for any other reason stays an error.
 */
for (const dialect of DIALECTS) {
  describe(`job runner: log levels [${dialect}]`, () => {
    let test: TestDatabase;
    const clock = new ManualClock();
    let lines: { level: number; msg: string; err?: { message?: string; stack?: string } }[];
    let logger: FastifyBaseLogger;

    beforeEach(async () => {
      test = await createTestDatabase(dialect);
      lines = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter((l) => l !== '')) lines.push(JSON.parse(line) as (typeof lines)[number]);
          done();
        },
      });
      logger = pino({ level: 'info' }, sink) as unknown as FastifyBaseLogger;
      await enqueueJob(test.database.db, { kind: 'probe', payload: {}, runAt: clock.now(), now: clock.now() });
    });
    afterEach(async () => {
      await test.drop();
    });

    const runWith = async (handler: JobHandler) => {
      const runner = new JobRunner({ database: test.database, clock, logger, handlers: { probe: handler } });
      assert.equal(await runner.runDue(), 1);
      const job = await test.database.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
      return job;
    };

    it('logs a handler that cannot reach the database as a warning, and the job waits for another try', async () => {
      const job = await runWith(async () => {
        throw Object.assign(new Error('the database system is shutting down'), { code: '57P01' });
      });
      assert.deepEqual(
        lines.filter((l) => l.level >= 40).map((l) => [l.level, l.msg, l.err?.message, (l.err?.stack ?? '') === '']),
        [
          [40, 'job could not reach the database', 'the database system is shutting down', true],
          [40, 'job did not finish', undefined, true],
        ],
      );
      assert.equal(job.status, 'pending');
      assert.equal(job.last_error, 'the database system is shutting down');
    });

    it('logs any other failure of a handler as an error, with its stack', async () => {
      await runWith(async () => {
        throw new Error('a bug');
      });
      const errors = lines.filter((l) => l.level >= 50);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.msg, 'job handler threw');
      assert.match(errors[0]!.err?.stack ?? '', /a bug/);
    });
  });
}

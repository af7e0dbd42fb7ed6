import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { RETENTION_SWEEP_JOB } from '../../src/consents/retention.js';
import { SYNC_JOB } from '../../src/data/sync.js';
import { claimJobs, enqueueJob } from '../../src/jobs/queue.js';
import { claimDeliveries } from '../../src/webhooks/deliveries.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';

for (const dialect of DIALECTS) {
  describe(`job queue: claim order [${dialect}]`, () => {
    let test: TestDatabase;
    const now = 1_800_000_000_000;

    beforeEach(async () => {
      test = await createTestDatabase(dialect);
      // A backlog of syncs, each due since its consent was made, then the retention sweep, due now.
      for (let i = 0; i < 20; i++) {
        await enqueueJob(test.database.db, { kind: SYNC_JOB, payload: { consentId: `c${i}` }, runAt: now - 120_000 + i * 1000, dedupeKey: `sync:c${i}`, consentId: `c${i}`, now: now - 120_000 });
      }
      await enqueueJob(test.database.db, { kind: RETENTION_SWEEP_JOB, payload: {}, runAt: now, dedupeKey: RETENTION_SWEEP_JOB, maxAttempts: 1000, now });
    });
    afterEach(async () => {
      await test.drop();
    });

    it('claims the oldest due jobs first', async () => {
      const claimed = await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now, limit: 2 });
      assert.deepEqual(claimed.map((j) => j.kind), [SYNC_JOB, SYNC_JOB]);
    });

    it('claims a `first` kind before an older backlog: the retention sweep does not wait behind the syncs', async () => {
      const claimed = await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now, limit: 1, first: [RETENTION_SWEEP_JOB] });
      assert.deepEqual(claimed.map((j) => j.kind), [RETENTION_SWEEP_JOB]);
      const next = await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now, limit: 3, first: [RETENTION_SWEEP_JOB] });
      // Then the backlog, oldest first (an UPDATE … RETURNING gives its rows in no set order).
      assert.deepEqual(next.map((j) => JSON.parse(j.payload).consentId).sort(), ['c0', 'c1', 'c2']);
    });

    it('leaves a `first` kind that is not due yet where it is', async () => {
      const claimed = await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now: now - 1, limit: 1, first: [RETENTION_SWEEP_JOB] });
      assert.deepEqual(claimed.map((j) => j.kind), [SYNC_JOB]);
    });
  });
}

if (DIALECTS.includes('sqlite')) {
  describe('job and webhook polls on SQLite, while another connection holds the write lock [sqlite]', () => {
    it('find nothing due without waiting for the lock: an idle poll does not hold the event loop behind the retention sweep’s thread', async () => {
      const test = await createTestDatabase('sqlite');
      const now = 1_800_000_000_000;
      await enqueueJob(test.database.db, { kind: SYNC_JOB, payload: { consentId: 'c' }, runAt: now + 60_000, dedupeKey: 'sync:c', consentId: 'c', now });
      const config = test.config;
      assert.equal(config.dialect, 'sqlite');
      const other = new SQLite(config.dialect === 'sqlite' ? config.file : '');
      try {
        other.exec('begin immediate');
        // Without the read first, each would wait busy_timeout (5 s) for the lock, then fail with SQLITE_BUSY.
        assert.deepEqual(await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now, limit: 4 }), []);
        assert.deepEqual(await claimDeliveries(test.database.db, test.database.capabilities, { claim: 'w', now, limit: 4, leaseMs: 60_000 }), []);
        other.exec('rollback');
        // And once the lock is free, what is due is claimed as before.
        assert.deepEqual((await claimJobs(test.database.db, test.database.capabilities, { workerId: 'w', now: now + 60_000, limit: 4 })).map((j) => j.kind), [SYNC_JOB]);
      } finally {
        other.close();
        await test.drop();
      }
    });
  });
}

import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { databaseOf, type DatabaseCapabilities, type FerryDatabase } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { enqueueJob } from '../jobs/queue.js';
import type { RowCounts } from './erase.js';
import { inThreadRunner, sweepThread, type SweepRunner } from './sweep-thread.js';

export const RETENTION_SWEEP_JOB = 'retention-sweep';
/** The sweeper runs at least this often, and at the next deadline when that comes sooner. */
export const SWEEP_INTERVAL_MS = 60_000;
/**
 * Consents erased by the first transaction. The next ones are sized by rows: as many consents as
 * make about {@link SWEEP_BATCH_ROWS} rows at the rows per consent seen so far, within
 * [1, {@link SWEEP_BATCH_MAX}]. Rows, not time: under load a batch's time says more about the
 * machine than about the batch, and batches that shrink with it spend their time on round trips.
 */
export const SWEEP_BATCH = 50;
export const SWEEP_BATCH_MAX = 1000;
/**
 * Rows a batch aims at. SQLite runs a batch synchronously, holding the event loop (and the write
 * lock) throughout: ~5,000 rows is ~50 ms. PostgreSQL runs it in its own process while the event
 * loop serves requests; bigger batches there save round trips and commits.
 */
export const SWEEP_BATCH_ROWS: Readonly<Record<DatabaseCapabilities['dialect'], number>> = { sqlite: 5_000, postgres: 25_000 };
/**
 * The share of its running time the sweeper spends inside batches: after a batch of d ms it waits
 * d × (1 − share) / share before the next. On SQLite a batch holds the event loop, so this is the
 * share of the process the sweep takes from the data API while it runs (bench/retention); SQLite
 * with a file sweeps in its own thread at {@link SWEEP_THREAD_BUSY_SHARE}. On PostgreSQL (in its
 * own thread, {@link SWEEP_OWN_THREAD}) the batch's backend takes a core's time from the API's
 * backends and event loop. Under the benchmark's load (bench/RESULTS.md, 2026-12-07), transactions
 * erased a second and the share of its rate the data API kept: at 1, 148,192/s and 58 %; at 0.8,
 * 104,080/s and 68 %; at 0.7, 85,000–94,000/s and 66–83 %; at 0.6, 70,000–77,000/s and 85–86 %.
 * So 0.6. Between batches the sweeper always
 * yields to the event loop: a Kysely transaction on SQLite runs in microtasks and would otherwise
 * hold the one connection, and every request, for the whole sweep.
 */
export const SWEEP_BUSY_SHARE: Readonly<Record<DatabaseCapabilities['dialect'], number>> = { sqlite: 0.2, postgres: 0.6 };
/**
 * SQLite with a database file: the batches run in a thread of their own with its own connection
 * (src/consents/sweep-thread.ts), on another core rather than on the event loop. What they still
 * share is SQLite's one write lock: while a batch runs, a write of the serving thread waits for
 * it (busy_timeout), blocking its event loop. So batches stay short ({@link SWEEP_THREAD_BATCH_ROWS})
 * and the thread leaves the lock free between them, (1 − share) / share of the batch's time: long
 * enough for a waiting writer's next retry (SQLite's busy handler retries after 1, 2, 5, 10, 15,
 * 20, 25… ms) to find the lock free.
 * The thread's batches also take CPU from the serving thread when the cores are busy (the
 * benchmark's load keeps one core on the event loop and a quarter of the other on the load
 * generator), and each commit of the thread empties the serving connection's page cache (SQLite
 * starts a reader afresh when another connection wrote). With random transaction ids (before
 * src/data/sync.ts made them time-ordered) a batch cost four times as much and the data API kept
 * 53 % of its rate at 0.75 (bench/RESULTS.md); with ordered ids, 0.6.
 *
 * PostgreSQL: the batches run in a thread of their own too, with a pool of two connections to the
 * same database (its URL and schema, {@link FerryDatabase.opened}). A batch is about 15 round
 * trips; on the serving thread each reply waits its turn in an event loop busy with requests:
 * at the same busy share the sweep erased ~111,000 transactions a second alone and ~41,000 under
 * the data API's load. In the thread, under that load: 66,000–70,000 (bench/RESULTS.md).
 * The batch size and busy share stay PostgreSQL's own ({@link SWEEP_BATCH_ROWS}, {@link SWEEP_BUSY_SHARE}).
 */
export const SWEEP_OWN_THREAD: Readonly<Record<DatabaseCapabilities['dialect'], boolean>> = { sqlite: true, postgres: true };
export const SWEEP_THREAD_BATCH_ROWS = 2_500;
export const SWEEP_THREAD_BUSY_SHARE = 0.6;
/**
 * A sweep stops starting batches after this long and the next one is due at once
 * ({@link nextSweepAt}): a job runs on a lease (src/jobs/queue.ts JOB_LEASE_MS, a minute), and a
 * sweep that outlived it would be claimed again and run twice alongside itself.
 */
export const SWEEP_MAX_MS = 30_000;
/**
 * A sweep this far behind (its batch's earliest deadline this long ago) runs its batches back to
 * back, whatever its busy share: under load that outlasts it, the share would let the lag grow
 * without end (bench/soak: 113 s after ten minutes at 10 flows a second).
 */
export const SWEEP_CATCH_UP_AFTER_MS = 20_000;
/** Abandoned flows and spent credentials are purged this long after they expire. */
const EXPIRED_GRACE_MS = 60 * 60_000;
const LAST_SWEEP_SETTING = 'retention:last-sweep';

export interface RetentionDeps {
  db: Kysely<Database>;
  capabilities: DatabaseCapabilities;
  clock: Clock;
}

export interface SweepReport {
  erased: number;
  rows: RowCounts;
  purged: RowCounts;
  /** Flows given up before they returned to the app, by the step they stopped at. */
  abandonedFlows: Record<string, number>;
  startedAt: number;
  durationMs: number;
  /**
   * Whether the batches ran in the sweep's own thread ({@link SWEEP_OWN_THREAD}) rather than on the
   * serving connection: false where the thread could not start (the sweep goes on without it), or
   * for an in-memory SQLite database. Absent in reports of sweeps before it was recorded.
   */
  ownThread?: boolean;
}

/**
 * Erases every consent past its one-time deadline, in batches, then purges what expired on its
 * own (abandoned flow sessions with their parameters, spent codes and refresh tokens, finished
 * jobs, the sandbox banks' expired logins). Reports what it did; safe to run in several
 * processes at once.
 */
export async function sweepExpiredConsents(deps: RetentionDeps, maxBatches = 1000, pacing: SweepPacing = {}): Promise<SweepReport> {
  const { db, capabilities, clock } = deps;
  const startedAt = clock.now();
  const runner = await openRunner(deps, pacing);
  let erased: number;
  let rows: RowCounts;
  try {
    ({ erased, rows } = await runner.run(clock, {
      firstBatch: pacing.firstBatch ?? SWEEP_BATCH,
      batchRows: pacing.batchRows ?? (runner.threaded && capabilities.dialect === 'sqlite' ? SWEEP_THREAD_BATCH_ROWS : SWEEP_BATCH_ROWS[capabilities.dialect]),
      maxBatch: SWEEP_BATCH_MAX,
      busyShare: pacing.busyShare ?? (runner.threaded && capabilities.dialect === 'sqlite' ? SWEEP_THREAD_BUSY_SHARE : SWEEP_BUSY_SHARE[capabilities.dialect]),
      maxBatches,
      maxMs: SWEEP_MAX_MS,
      catchUpAfterMs: pacing.catchUpAfterMs ?? SWEEP_CATCH_UP_AFTER_MS,
    }));
  } finally {
    await runner.close();
  }
  // Purging is housekeeping over rows every sweeper sees: one sweeper at a time does it (two
  // concurrent DELETEs over the same rows can deadlock on PostgreSQL); the others skip it this round.
  const { abandonedFlows, purged } = await exclusively(db, capabilities, async (trx) => ({
    abandonedFlows: await countAbandonedFlows(trx, clock.now()),
    purged: await purgeExpired(trx, clock.now()),
  }), { abandonedFlows: {}, purged: {} });
  const report: SweepReport = { erased, rows, purged, abandonedFlows, startedAt, durationMs: clock.now() - startedAt, ownThread: runner.threaded };
  await db
    .insertInto('settings')
    .values({ key: LAST_SWEEP_SETTING, value: JSON.stringify(report) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(report) }))
    .execute();
  return report;
}

export interface SweepPacing {
  /** See {@link SWEEP_BUSY_SHARE}; 1 runs the batches back to back (yielding between them). */
  busyShare?: number;
  /** See {@link SWEEP_BATCH_ROWS}. */
  batchRows?: number;
  /** Consents in the first batch (see {@link SWEEP_BATCH}). */
  firstBatch?: number;
  /** See {@link SWEEP_CATCH_UP_AFTER_MS}. */
  catchUpAfterMs?: number;
  /** False: run the batches on the caller's connection even where {@link SWEEP_OWN_THREAD} would not. */
  ownThread?: boolean;
}

/** The sweep's own thread where {@link SWEEP_OWN_THREAD} says so and there is work for it; else the caller's connection. */
async function openRunner(deps: RetentionDeps, pacing: SweepPacing): Promise<SweepRunner> {
  const { db, capabilities, clock } = deps;
  const here = inThreadRunner(db, capabilities);
  if (!SWEEP_OWN_THREAD[capabilities.dialect] || pacing.ownThread === false) return here;
  // Starting a thread costs a few hundred ms: only for consents due now.
  const due = await db.selectFrom('consents').select('id').where('delete_at', '<=', clock.now()).limit(1).executeTakeFirst();
  if (due === undefined) return here;
  let opened: FerryDatabase['opened'];
  if (capabilities.dialect === 'sqlite') {
    const { rows } = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db);
    const file = rows[0]?.file ?? '';
    // An in-memory database lives in this connection only.
    if (file === '') return here;
    opened = { config: { dialect: 'sqlite', file }, options: {} };
  } else {
    // The server's database, opened again the same way (URL, schema) in the thread.
    const database = databaseOf(db);
    if (database === undefined) return here;
    opened = database.opened;
  }
  // A thread that cannot start (no tsx loader to register, say) must not stop the sweep.
  return sweepThread(opened).catch(() => here);
}

async function countAbandonedFlows(db: Kysely<Database>, now: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('flow_sessions')
    .select(['step', (eb) => eb.fn.countAll<number>().as('n')])
    .where('expires_at', '<', now - EXPIRED_GRACE_MS)
    .where('step', '!=', 'returned')
    .groupBy('step')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.step, Number(r.n)]));
}

const PURGE_LOCK_KEY = 7_402_119;

/** Runs `work` in a transaction that holds the purge lock (PostgreSQL), or returns `skipped` when another process holds it. */
async function exclusively<T>(db: Kysely<Database>, capabilities: DatabaseCapabilities, work: (trx: Kysely<Database>) => Promise<T>, skipped: T): Promise<T> {
  if (!capabilities.supportsSkipLocked) return work(db);
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${PURGE_LOCK_KEY}) as locked`.execute(trx);
    return rows[0]?.locked === true ? work(trx) : skipped;
  });
}

async function purgeExpired(db: Kysely<Database>, now: number): Promise<RowCounts> {
  const before = now - EXPIRED_GRACE_MS;
  const n = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
  // Rows of consents past their deadline are the erasers' (another sweeper may be erasing them
  // right now): leaving them alone here means the two never wait on each other's rows.
  const erasing = db.selectFrom('consents').select('id').where('delete_at', '<=', now);
  const erasingGrants = db.selectFrom('grants').select('grants.id').where('consent_id', 'in', erasing);
  return {
    flow_sessions: n(
      await db
        .deleteFrom('flow_sessions')
        .where('expires_at', '<', before)
        .where((eb) => eb.or([eb('consent_id', 'is', null), eb('consent_id', 'not in', erasing)]))
        .executeTakeFirst(),
    ),
    authorization_codes: n(await db.deleteFrom('authorization_codes').where('expires_at', '<', before).where('consent_id', 'not in', erasing).executeTakeFirst()),
    refresh_tokens: n(await db.deleteFrom('refresh_tokens').where('expires_at', '<', before).where('grant_id', 'not in', erasingGrants).executeTakeFirst()),
    sandbox_bank_logins: n(await db.deleteFrom('sandbox_bank_logins').where('expires_at', '<', before).executeTakeFirst()),
    rate_limits: n(await db.deleteFrom('rate_limits').where('reset_at', '<', now).executeTakeFirst()),
    jobs: n(
      await db
        .deleteFrom('jobs')
        .where('status', 'in', ['done', 'superseded'])
        .where('finished_at', '<', now - 24 * 3600_000)
        .where((eb) => eb.or([eb('consent_id', 'is', null), eb('consent_id', 'not in', erasing)]))
        .executeTakeFirst(),
    ),
  };
}

/** When the sweeper should run next: at the next deadline, and at least every minute; at once while deadlines are overdue. */
export async function nextSweepAt(db: Kysely<Database>, now: number): Promise<number> {
  // A deadline already past (a sweep stopped at SWEEP_MAX_MS, or another sweeper's share) means soon.
  const next = await db.selectFrom('consents').select((eb) => eb.fn.min('delete_at').as('at')).where('delete_at', 'is not', null).executeTakeFirst();
  const at = next?.at === null || next?.at === undefined ? Infinity : Number(next.at);
  return Math.max(now + 250, Math.min(now + SWEEP_INTERVAL_MS, at));
}

/** Makes sure a sweep is scheduled (at start-up, and after each sweep for the next one). */
export async function scheduleSweep(db: Kysely<Database>, runAt: number, now: number): Promise<void> {
  await db.updateTable('jobs').set({ run_at: runAt }).where('dedupe_key', '=', RETENTION_SWEEP_JOB).where('status', '=', sql.lit('pending')).where('run_at', '>', runAt).execute();
  await enqueueJob(db, { kind: RETENTION_SWEEP_JOB, payload: {}, runAt, dedupeKey: RETENTION_SWEEP_JOB, maxAttempts: 1000, now });
}

export interface RetentionStats {
  consentsByStatus: Record<string, number>;
  /** One-time consents past their deadline and not yet erased. */
  overdue: number;
  oldestOverdueDeadline: number | null;
  /** How far behind the sweeper is: now minus the oldest overdue deadline (0 when none). */
  deletionLagMs: number;
  receipts: number;
  lastSweep: SweepReport | null;
}

export async function retentionStats(db: Kysely<Database>, now: number): Promise<RetentionStats> {
  const statuses = await db.selectFrom('consents').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const overdue = await db
    .selectFrom('consents')
    .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('delete_at').as('oldest')])
    .where('delete_at', '<=', now)
    .executeTakeFirstOrThrow();
  const receipts = await db.selectFrom('deletion_receipts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const last = await db.selectFrom('settings').select('value').where('key', '=', LAST_SWEEP_SETTING).executeTakeFirst();
  const oldest = overdue.oldest === null ? null : Number(overdue.oldest);
  return {
    consentsByStatus: Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)])),
    overdue: Number(overdue.n),
    oldestOverdueDeadline: oldest,
    deletionLagMs: oldest === null ? 0 : now - oldest,
    receipts: Number(receipts.n),
    lastSweep: last === undefined ? null : (JSON.parse(last.value) as SweepReport),
  };
}

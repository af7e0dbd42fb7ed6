import { sql, type Kysely } from 'kysely';
import { newId } from '../crypto.js';
import type { DatabaseCapabilities } from '../db/database.js';
import type { Database, JobRow } from '../db/schema.js';

/**
 * Durable jobs in the database (DESIGN: jobs). A job is written in the same transaction as the
 * change that caused it; workers claim due jobs with a lease (`FOR UPDATE SKIP LOCKED` on
 * PostgreSQL, the single writer lock on SQLite), so a crashed worker's job is taken up again when
 * its lease runs out, and two workers never run one job at once.
 */

export interface NewJob {
  kind: string;
  payload: Record<string, unknown>;
  runAt: number;
  /** At most one pending job per key: enqueueing a duplicate is a no-op. */
  dedupeKey?: string;
  consentId?: string;
  maxAttempts?: number;
  now: number;
}

export const DEFAULT_MAX_ATTEMPTS = 8;
export const JOB_LEASE_MS = 60_000;

export async function enqueueJob(db: Kysely<Database>, job: NewJob): Promise<void> {
  await db
    .insertInto('jobs')
    .values({
      id: newId(),
      kind: job.kind,
      payload: JSON.stringify(job.payload),
      dedupe_key: job.dedupeKey ?? null,
      consent_id: job.consentId ?? null,
      run_at: job.runAt,
      attempts: 0,
      max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      locked_until: null,
      locked_by: null,
      last_error: null,
      status: 'pending',
      created_at: job.now,
      finished_at: null,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Claims up to `limit` due jobs (and jobs whose worker's lease ran out) for this worker, oldest
 * first; jobs of the `first` kinds before any other, whatever their `run_at`: a backlog of syncs
 * (each due since its consent was made) must not hold back the retention sweep, whose deadline
 * is a promise.
 *
 * Without SKIP LOCKED (SQLite) the UPDATE would take the database's one write lock before reading
 * anything: while another connection holds it (the retention sweep's thread, another process,
 * the CLI), every poll would wait for it on the serving thread (busy_timeout, a synchronous
 * sleep that holds the event loop), even with nothing due. So a read, which never waits in WAL
 * mode, tells first whether anything is due.
 */
export async function claimJobs(
  db: Kysely<Database>,
  capabilities: DatabaseCapabilities,
  input: { workerId: string; now: number; limit: number; kinds?: readonly string[]; first?: readonly string[]; leaseMs?: number },
): Promise<JobRow[]> {
  const { workerId, now, limit } = input;
  const lease = input.leaseMs ?? JOB_LEASE_MS;
  let due = db
    .selectFrom('jobs')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
      ]),
    );
  if (input.first !== undefined && input.first.length > 0) due = due.orderBy(sql`case when kind in (${sql.join([...input.first])}) then 0 else 1 end`);
  due = due.orderBy('run_at').limit(limit);
  if (input.kinds !== undefined) due = due.where('kind', 'in', [...input.kinds]);
  if (capabilities.supportsSkipLocked) due = due.forUpdate().skipLocked();
  else if ((await due.executeTakeFirst()) === undefined) return [];
  return db
    .updateTable('jobs')
    .set({ status: 'running', locked_by: workerId, locked_until: now + lease, attempts: sql`attempts + 1` })
    .where('id', 'in', due)
    .returningAll()
    .execute();
}

export async function completeJob(db: Kysely<Database>, job: JobRow, now: number): Promise<void> {
  await db.updateTable('jobs').set({ status: 'done', finished_at: now, locked_until: null }).where('id', '=', job.id).where('locked_by', '=', job.locked_by).execute();
}

/** Exponential backoff with jitter: ~30 s, 1 min, 2 min … capped at 6 h. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 6 * 3600_000);
  return Math.round(base * (0.75 + random() * 0.5));
}

export async function failJob(db: Kysely<Database>, job: JobRow, error: string, now: number): Promise<'retry' | 'failed' | 'superseded'> {
  const final = job.attempts >= job.max_attempts;
  try {
    await db
      .updateTable('jobs')
      .set(
        final
          ? { status: 'failed', last_error: error.slice(0, 500), finished_at: now, locked_until: null }
          : { status: 'pending', last_error: error.slice(0, 500), run_at: now + backoffMs(job.attempts), locked_until: null, locked_by: null },
      )
      .where('id', '=', job.id)
      .where('locked_by', '=', job.locked_by)
      .execute();
    return final ? 'failed' : 'retry';
  } catch {
    // A newer job with the same dedupe key is already pending: it does this job's work.
    await db.updateTable('jobs').set({ status: 'superseded', last_error: error.slice(0, 500), finished_at: now, locked_until: null }).where('id', '=', job.id).execute();
    return 'superseded';
  }
}

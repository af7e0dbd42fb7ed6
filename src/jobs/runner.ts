import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import type { JobRow } from '../db/schema.js';
import { isDatabaseUnavailable } from '../http/error-handler.js';
import { claimJobs, completeJob, failJob } from './queue.js';

/** What a job handler reports: done, or try again later with the reason (jobs report, they don't throw). */
export type JobOutcome = { status: 'done' } | { status: 'retry'; error: string };

export type JobHandler = (job: JobRow, payload: Record<string, unknown>) => Promise<JobOutcome>;

export interface JobRunnerOptions {
  database: FerryDatabase;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  logger: FastifyBaseLogger;
  /** Jobs run at once by this process. */
  concurrency?: number;
  /** How often an idle runner looks for due jobs. */
  pollIntervalMs?: number;
  /** Kinds claimed before every other due job (src/jobs/queue.ts `claimJobs`). */
  firstKinds?: readonly string[];
}

/**
 * Claims due jobs and runs their handlers. `runDue()` does one round (tests call it with a moved
 * clock); `start()` polls until `stop()`, which waits for the jobs in hand to finish.
 */
export class JobRunner {
  readonly workerId = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running = new Set<Promise<void>>();
  private stopped = true;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: JobRunnerOptions) {
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  /** Claims and runs what is due now; resolves when those jobs are finished. Returns how many ran. */
  async runDue(): Promise<number> {
    const free = this.concurrency - this.running.size;
    if (free <= 0) return 0;
    const { database, clock } = this.options;
    const jobs = await claimJobs(database.db, database.capabilities, {
      workerId: this.workerId,
      now: clock.now(),
      limit: free,
      kinds: Object.keys(this.options.handlers),
      ...(this.options.firstKinds !== undefined ? { first: this.options.firstKinds } : {}),
    });
    await Promise.all(jobs.map((job) => this.track(this.runOne(job))));
    return jobs.length;
  }

  private track(promise: Promise<void>): Promise<void> {
    this.running.add(promise);
    return promise.finally(() => this.running.delete(promise));
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runDue()
        .then((count) => this.schedule(count > 0 ? 0 : this.pollIntervalMs))
        .catch((error: unknown) => {
          // The database may be away for a moment: log, wait, try again.
          this.options.logger.warn({ err: error }, 'job polling failed');
          this.schedule(this.pollIntervalMs * 4);
        });
    }, delay);
    this.timer.unref();
  }

  private async runOne(job: JobRow): Promise<void> {
    const { database, clock, handlers, logger } = this.options;
    const handler = handlers[job.kind];
    let outcome: JobOutcome;
    try {
      outcome = handler === undefined ? { status: 'retry', error: `no handler for ${job.kind}` } : await handler(job, JSON.parse(job.payload) as Record<string, unknown>);
    } catch (error) {
      // The database away for a moment (a restart, a failover) is no bug: a warning, and the job runs again.
      if (isDatabaseUnavailable(error)) logger.warn({ err: brief(error), jobId: job.id, kind: job.kind }, 'job could not reach the database');
      else logger.error({ err: error, jobId: job.id, kind: job.kind }, 'job handler threw');
      outcome = { status: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
    try {
      if (outcome.status === 'done') await completeJob(database.db, job, clock.now());
      else {
        const result = await failJob(database.db, job, outcome.error, clock.now());
        logger.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, result, error: outcome.error }, 'job did not finish');
      }
    } catch (error) {
      // Its lease runs out and another round takes it up again: nothing is lost.
      if (isDatabaseUnavailable(error)) logger.warn({ err: brief(error), jobId: job.id }, 'could not record a job outcome: the database is unreachable');
      else logger.error({ err: error, jobId: job.id }, 'could not record a job outcome');
    }
  }
}

/** An error's message and code, without the stack: a database outage logs one line per job, not a trace. */
function brief(error: unknown): { message: string; code?: unknown } {
  const e = error as { message?: unknown; code?: unknown };
  return { message: String(e?.message ?? error), ...(e?.code !== undefined ? { code: e.code } : {}) };
}

import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import { systemResolver, type AddressPolicy, type HostResolver } from './address-guard.js';
import { claimDeliveries, pruneFinishedDeliveries, pruneOldEvents, recordTry, releaseDeliveries, type ClaimedDelivery, type TryRecord, type TryResult } from './deliveries.js';
import { webhookBody } from './envelope.js';
import { retryDelayMs } from './retry-schedule.js';
import { createAgents, sendWebhook, type AttemptKind, type AttemptOutcome, type SenderOptions } from './sender.js';
import { signWebhook, webhookTimestamp } from './signature.js';

export interface WebhookDispatcherOptions {
  database: FerryDatabase;
  clock: Clock;
  logger: FastifyBaseLogger;
  policy: AddressPolicy;
  /** One try's limit (FERRY_WEBHOOK_TIMEOUT_SECONDS, 10 s by default). */
  timeoutMs: number;
  /** Tries in flight at once in this process. */
  concurrency?: number;
  /**
   * Tries in flight at once for one app (half the concurrency by default): an app whose receiver
   * hangs holds at most these slots until its tries time out, and the other apps' webhooks go on.
   */
  perAppConcurrency?: number;
  /** How often an idle dispatcher looks for due deliveries (a `nudge()` looks at once). */
  pollIntervalMs?: number;
  resolver?: HostResolver;
  random?: () => number;
  /** Told of every try's outcome (the metrics counter). */
  onAttempt?: (kind: AttemptKind) => void;
}

export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_POLL_INTERVAL_MS = 200;
/** How often a running dispatcher prunes finished deliveries past their retention. */
const PRUNE_INTERVAL_MS = 3600_000;
const USER_AGENT = 'Ferry-Webhooks/1';

/** Tries by how they ended, since this process started (counters for /metrics). */
export type AttemptCounters = Record<AttemptKind, number>;

/**
 * Delivers webhooks: claims due delivery rows, POSTs each event to its app's URL, and writes the
 * outcome. `start()` keeps going until `stop()`; `runDue()` does what is due now and returns when
 * it is done (tests move the clock and call it). Any number of processes may run one: claims
 * never overlap (SKIP LOCKED on PostgreSQL, SQLite's single writer), and a claim is a lease of
 * twice the try timeout plus 5 s, after which a dead process's delivery is due again.
 */
export class WebhookDispatcher {
  readonly workerId = randomUUID();
  readonly counters: AttemptCounters = { delivered: 0, status: 0, timeout: 0, network: 0, refused: 0 };
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly sender: SenderOptions;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perAppConcurrency: number;
  /** Tries in flight per app, in this process. */
  private readonly inFlightByApp = new Map<string, number>();
  private lastClaimSkippedApps = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<number> | null = null;
  private claimSeq = 0;
  private lastPruneAt = 0;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.perAppConcurrency = Math.max(1, Math.min(this.concurrency, options.perAppConcurrency ?? Math.ceil(this.concurrency / 2)));
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.leaseMs = 2 * options.timeoutMs + 5_000;
    this.random = options.random ?? Math.random;
    this.sender = {
      policy: options.policy,
      resolver: options.resolver ?? systemResolver,
      timeoutMs: options.timeoutMs,
      now: () => options.clock.now(),
      agents: createAgents(this.concurrency),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops claiming and waits for the tries in flight (each ends within the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.claiming?.catch(() => 0);
    await Promise.allSettled([...this.inFlight]);
    this.sender.agents.http.destroy();
    this.sender.agents.https.destroy();
  }

  /** Something was just recorded: look now rather than at the next poll (latency, not correctness). */
  nudge(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** Tries everything due now, until nothing due is left; resolves when those tries are written. */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claimMore();
      total += claimed;
      // Nothing claimed and nothing in flight is the end, unless that claim passed over apps at their
      // share whose tries have all ended meanwhile: their deliveries may still be due.
      if (claimed === 0 && this.inFlight.size === 0 && !this.lastClaimSkippedApps) return total;
      if (claimed === 0 && this.inFlight.size > 0) await Promise.race(this.inFlight);
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), delay);
    this.timer.unref();
  }

  /** One polling round: claim while there is room and work, then sleep until a nudge, a free slot or the poll. */
  private async pump(): Promise<void> {
    this.timer = undefined;
    this.pruneNow();
    try {
      let claimed: number;
      do claimed = await this.claimMore();
      while (claimed > 0 && !this.stopped && this.inFlight.size < this.concurrency);
      if (this.inFlight.size < this.concurrency) this.schedule(this.pollIntervalMs);
    } catch (error) {
      // The database may be away for a moment: log, wait, try again.
      this.options.logger.warn({ err: error }, 'webhook polling failed');
      this.schedule(this.pollIntervalMs * 5);
    }
  }

  /** Once an hour per process: several processes pruning at once only delete the same rows. */
  private pruneNow(): void {
    const now = this.options.clock.now();
    if (now - this.lastPruneAt < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = now;
    const db = this.options.database.db;
    pruneFinishedDeliveries(db, now)
      .then(async (pruned) => ({ pruned, events: await pruneOldEvents(db, now) }))
      .then(({ pruned, events }) => {
        if (pruned > 0 || events > 0) this.options.logger.info({ pruned, events }, 'pruned finished webhook deliveries and old events');
      })
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not prune webhook deliveries'));
  }

  /** Claims as many due deliveries as there are free slots and starts them. One claim at a time per process. */
  private async claimMore(): Promise<number> {
    if (this.claiming !== null) return this.claiming;
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    this.claiming = (async () => {
      const { database, clock } = this.options;
      const claim = `${this.workerId}:${++this.claimSeq}`;
      const atShare = [...this.inFlightByApp].filter(([, n]) => n >= this.perAppConcurrency).map(([appId]) => appId);
      this.lastClaimSkippedApps = atShare.length > 0;
      const deliveries = await claimDeliveries(database.db, database.capabilities, { claim, now: clock.now(), limit: free, leaseMs: this.leaseMs, skipApps: atShare });
      // One claim may bring more of one app's deliveries than its share: those go back, untried.
      const excess: string[] = [];
      for (const delivery of deliveries) {
        const busy = this.inFlightByApp.get(delivery.appId) ?? 0;
        if (busy >= this.perAppConcurrency) {
          excess.push(delivery.id);
          continue;
        }
        this.inFlightByApp.set(delivery.appId, busy + 1);
        this.track(this.deliver(delivery), delivery.appId);
      }
      await releaseDeliveries(database.db, claim, excess, clock.now());
      return deliveries.length - excess.length;
    })().finally(() => {
      this.claiming = null;
    });
    return this.claiming;
  }

  private track(promise: Promise<void>, appId: string): void {
    const tracked = promise.finally(() => {
      this.inFlight.delete(tracked);
      const left = (this.inFlightByApp.get(appId) ?? 1) - 1;
      if (left > 0) this.inFlightByApp.set(appId, left);
      else this.inFlightByApp.delete(appId);
      // Refill in batches, not one claim per finished try; an empty pipeline refills at once.
      if (!this.stopped && (this.inFlight.size === 0 || this.concurrency - this.inFlight.size >= Math.ceil(this.concurrency / 4))) this.schedule(0);
    });
    this.inFlight.add(tracked);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const { clock, database, logger } = this.options;
    const context = { deliveryId: delivery.id, eventId: delivery.eventId, appId: delivery.appId, attempt: delivery.attempt };
    let result: TryResult;
    let outcome: AttemptOutcome | null = null;
    if (delivery.event === null) {
      result = { delivered: false, url: null, statusCode: null, error: 'the event no longer exists', durationMs: null, retryAt: null };
    } else if (delivery.webhookUrl === null) {
      result = { delivered: false, url: null, statusCode: null, error: 'the app has no webhook URL', durationMs: null, retryAt: null };
    } else {
      const body = webhookBody(delivery.event);
      const timestamp = webhookTimestamp(clock.now());
      // Header names cased exactly as Aiia sends them, for receivers that look them up case-sensitively.
      const headers: Record<string, string> = {
        'Content-Type': 'application/json; charset=utf-8',
        'User-Agent': USER_AGENT,
        'X-Aiia-Event': delivery.event.event,
        'X-Aiia-EventId': delivery.eventId,
        'X-Aiia-TimeStamp': timestamp,
      };
      if (delivery.webhookSecret !== null && delivery.webhookSecret !== '') {
        headers['X-Aiia-Signature'] = signWebhook(delivery.webhookSecret, { timestamp, eventId: delivery.eventId, event: delivery.event.event, body });
      }
      outcome = await sendWebhook({ url: delivery.webhookUrl, headers, body }, this.sender);
      this.counters[outcome.kind] += 1;
      this.options.onAttempt?.(outcome.kind);
      result = this.resultOf(delivery, outcome);
    }

    let record: TryRecord;
    try {
      record = await recordTry(database.db, delivery, result, clock.now());
    } catch (error) {
      // Its lease runs out and a later round tries again: at least once, never lost.
      logger.error({ err: error, ...context }, 'could not record a webhook try');
      return;
    }
    const log = { ...context, event: delivery.event?.event, outcome: outcome?.kind ?? 'failed', statusCode: result.statusCode, durationMs: result.durationMs, record };
    if (outcome?.kind === 'refused') {
      // The SSRF guard's refusals are logged with the host and address, never the URL's path or query.
      logger.warn({ ...log, host: outcome.refusal.host, address: outcome.refusal.address, range: outcome.refusal.range, reason: outcome.refusal.reason }, 'webhook refused: target not allowed');
    } else if (record === 'delivered') logger.debug(log, 'webhook delivered');
    else if (record === 'failed') logger.warn({ ...log, error: result.error }, 'webhook failed for good after its last try');
    else if (record === 'retry') logger.info({ ...log, error: result.error, nextAttemptAt: new Date(result.retryAt!).toISOString() }, 'webhook try failed; will retry');
    else logger.info(log, 'webhook try finished after its claim was taken over');
  }

  private resultOf(delivery: ClaimedDelivery, outcome: AttemptOutcome): TryResult {
    const url = delivery.webhookUrl;
    if (outcome.kind === 'delivered') return { delivered: true, url, statusCode: outcome.statusCode, error: null, durationMs: outcome.durationMs, retryAt: null };
    // A refused target fails at once: trying the same address again cannot make it allowed.
    if (outcome.kind === 'refused') return { delivered: false, url, statusCode: null, error: outcome.error, durationMs: outcome.durationMs, retryAt: null };
    const now = this.options.clock.now();
    const last = delivery.attempt >= delivery.maxAttempts;
    const delay = Math.max(retryDelayMs(delivery.attempt, this.random), outcome.kind === 'status' ? (outcome.retryAfterMs ?? 0) : 0);
    const error = outcome.kind === 'status' ? `answered ${outcome.statusCode}` : outcome.error;
    return { delivered: false, url, statusCode: outcome.kind === 'status' ? outcome.statusCode : null, error, durationMs: outcome.durationMs, retryAt: last ? null : now + delay };
  }
}

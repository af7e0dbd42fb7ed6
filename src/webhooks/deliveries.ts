import { sql, type Kysely } from 'kysely';
import { newId } from '../crypto.js';
import type { DatabaseCapabilities } from '../db/database.js';
import type { Database, WebhookDeliveryRow } from '../db/schema.js';
import { recordEvent, type EventName, WEBHOOK_MAX_ATTEMPTS } from '../events/outbox.js';

/**
 * The delivery rows (migration 005) as a durable queue. A claim moves `next_attempt_at` forward by
 * the lease and stamps `claimed_by`; the try's outcome is written only while that claim holds. A
 * worker that dies mid-try loses nothing: when its lease runs out, the row is due again.
 */

/** A claimed delivery with what its try needs: the event, and the app's URL and secret now. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  appId: string;
  /** This try's number, from 1. */
  attempt: number;
  maxAttempts: number;
  claim: string;
  event: { id: string; event: EventName; consentId: string; data: string | null } | null;
  webhookUrl: string | null;
  webhookSecret: string | null;
}

export interface ClaimInput {
  claim: string;
  now: number;
  limit: number;
  leaseMs: number;
  /** Apps whose deliveries are not claimed this time (those at their share of the worker's slots). */
  skipApps?: readonly string[];
}

/** Claims up to `limit` due deliveries (and those whose worker's lease ran out). */
export async function claimDeliveries(db: Kysely<Database>, capabilities: DatabaseCapabilities, input: ClaimInput): Promise<ClaimedDelivery[]> {
  const { claim, now, limit, leaseMs } = input;
  // 'pending' as a literal: only then can the planner use the partial index webhook_deliveries_due;
  // with a bound parameter SQLite scans every delivery ever made (and sorts them) on every claim.
  let due = db.selectFrom('webhook_deliveries').select('id').where('status', '=', sql.lit('pending')).where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit);
  if (input.skipApps !== undefined && input.skipApps.length > 0) due = due.where('app_id', 'not in', input.skipApps);
  if (capabilities.supportsSkipLocked) due = due.forUpdate().skipLocked();
  // SQLite: nothing due is told by a read (see claimJobs).
  else if ((await due.executeTakeFirst()) === undefined) return [];
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now + leaseMs, claimed_by: claim, attempts: sql`attempts + 1`, last_attempt_at: now })
    .where('id', 'in', due)
    .returning(['id', 'event_id', 'app_id', 'attempts', 'max_attempts'])
    .execute();
  if (claimed.length === 0) return [];
  const events = await db
    .selectFrom('events')
    .select(['id', 'event', 'consent_id', 'data'])
    .where('id', 'in', [...new Set(claimed.map((c) => c.event_id))])
    .execute();
  const apps = await db
    .selectFrom('apps')
    .select(['id', 'webhook_url', 'webhook_secret'])
    .where('id', 'in', [...new Set(claimed.map((c) => c.app_id))])
    .execute();
  const eventById = new Map(events.map((e) => [e.id, e]));
  const appById = new Map(apps.map((a) => [a.id, a]));
  return claimed.map((row) => {
    const event = eventById.get(row.event_id);
    const app = appById.get(row.app_id);
    return {
      id: row.id,
      eventId: row.event_id,
      appId: row.app_id,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      claim,
      event: event === undefined ? null : { id: event.id, event: event.event as EventName, consentId: event.consent_id, data: event.data },
      webhookUrl: app?.webhook_url ?? null,
      webhookSecret: app?.webhook_secret ?? null,
    };
  });
}

/**
 * Gives claimed deliveries back untried (a worker took more of one app's than its share): due at
 * once again, the claim's attempt count undone, while the claim is still this worker's.
 */
export async function releaseDeliveries(db: Kysely<Database>, claim: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: now, claimed_by: null, attempts: sql`attempts - 1` })
    .where('id', 'in', ids)
    .where('claimed_by', '=', claim)
    .where('status', '=', 'pending')
    .execute();
}

/** A try's result as stored: `retryAt` null means no further try (delivered, or failed for good). */
export interface TryResult {
  delivered: boolean;
  url: string | null;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  retryAt: number | null;
}

export type TryRecord = 'delivered' | 'retry' | 'failed' | 'claim-lost';

/**
 * Writes a try's outcome, if this worker's claim still holds (a lease that ran out and was taken
 * over means another worker is trying now: its outcome is the one that counts).
 */
export async function recordTry(db: Kysely<Database>, delivery: ClaimedDelivery, result: TryResult, now: number): Promise<TryRecord> {
  const status: WebhookDeliveryRow['status'] = result.delivered ? 'delivered' : result.retryAt === null ? 'failed' : 'pending';
  const updated = await db
    .updateTable('webhook_deliveries')
    .set({
      status,
      claimed_by: null,
      next_attempt_at: result.retryAt ?? now,
      last_status_code: result.statusCode,
      last_error: result.error === null ? null : result.error.slice(0, 500),
      last_duration_ms: result.durationMs,
      delivered_at: result.delivered ? now : null,
      ...(result.url !== null ? { url: result.url } : {}),
    })
    .where('id', '=', delivery.id)
    .where('claimed_by', '=', delivery.claim)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return 'claim-lost';
  return status === 'delivered' ? 'delivered' : status === 'failed' ? 'failed' : 'retry';
}

export type DeliveryStatus = 'Pending' | 'Delivered' | 'Failed';

/** A delivery as the management API and the CLI show it (times ISO-8601, enums PascalCase). */
export interface DeliveryView {
  id: string;
  eventId: string;
  event: string;
  consentId: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  /** Pending: when the next try is due. */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  deliveredAt: string | null;
  createdAt: string;
  redeliveryOf: string | null;
}

const STATUS_NAMES: Record<WebhookDeliveryRow['status'], DeliveryStatus> = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed' };
export const STATUS_FROM_NAME: Record<DeliveryStatus, WebhookDeliveryRow['status']> = { Pending: 'pending', Delivered: 'delivered', Failed: 'failed' };

export interface DeliveryFilter {
  /** Only this app's (the management API always sets it; the operator's CLI may not). */
  appId?: string;
  status?: WebhookDeliveryRow['status'];
  eventId?: string;
  consentId?: string;
  limit: number;
}

function deliveriesWithEvents(db: Kysely<Database>) {
  return db
    .selectFrom('webhook_deliveries as d')
    .leftJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select(['e.event as event_name', 'e.consent_id as event_consent_id']);
}

type DeliveryWithEvent = WebhookDeliveryRow & { event_name: string | null; event_consent_id: string | null };

/** Recent deliveries, newest first. */
export async function listDeliveries(db: Kysely<Database>, filter: DeliveryFilter): Promise<DeliveryView[]> {
  let query = deliveriesWithEvents(db).orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(filter.limit);
  if (filter.appId !== undefined) query = query.where('d.app_id', '=', filter.appId);
  if (filter.status !== undefined) query = query.where('d.status', '=', filter.status);
  if (filter.eventId !== undefined) query = query.where('d.event_id', '=', filter.eventId);
  if (filter.consentId !== undefined) query = query.where('e.consent_id', '=', filter.consentId);
  return (await query.execute()).map(deliveryView);
}

export async function findDelivery(db: Kysely<Database>, id: string, appId?: string): Promise<DeliveryView | undefined> {
  let query = deliveriesWithEvents(db).where('d.id', '=', id);
  if (appId !== undefined) query = query.where('d.app_id', '=', appId);
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : deliveryView(row);
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

export function deliveryView(row: DeliveryWithEvent): DeliveryView {
  return {
    id: row.id,
    eventId: row.event_id,
    event: row.event_name ?? 'Unknown',
    consentId: row.event_consent_id === null || row.event_consent_id === '' ? null : row.event_consent_id,
    url: row.url,
    status: STATUS_NAMES[row.status],
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastAttemptAt: iso(row.last_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    deliveredAt: iso(row.delivered_at),
    createdAt: iso(row.created_at)!,
    redeliveryOf: row.redelivery_of,
  };
}

/** Why a redelivery or a test event cannot be made; the message is for the app. */
export class WebhookRequestRefused extends Error {
  constructor(
    readonly kind: 'not-found' | 'no-webhook-url',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRequestRefused';
  }
}

/**
 * Sends a delivery's event again, with the same event id: a finished (delivered or failed)
 * delivery gets a new delivery row due now; a pending one that is not being tried this moment
 * is brought forward to now. Returns the delivery that will carry it.
 */
export async function redeliver(db: Kysely<Database>, id: string, now: number, appId?: string): Promise<DeliveryView> {
  const newRowId = await db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('webhook_deliveries').selectAll().where('id', '=', id);
    if (appId !== undefined) query = query.where('app_id', '=', appId);
    const original = await query.executeTakeFirst();
    if (original === undefined) throw new WebhookRequestRefused('not-found', appId === undefined ? `No delivery ${id}.` : 'No such delivery for this app.');
    if (original.status === 'pending') {
      await trx.updateTable('webhook_deliveries').set({ next_attempt_at: now }).where('id', '=', id).where('status', '=', 'pending').where('claimed_by', 'is', null).where('next_attempt_at', '>', now).execute();
      return original.id;
    }
    const app = await trx.selectFrom('apps').select('webhook_url').where('id', '=', original.app_id).executeTakeFirst();
    if (app?.webhook_url == null) throw new WebhookRequestRefused('no-webhook-url', 'The app has no webhook URL.');
    const fresh = newId();
    await trx
      .insertInto('webhook_deliveries')
      .values({
        id: fresh,
        event_id: original.event_id,
        app_id: original.app_id,
        url: app.webhook_url,
        status: 'pending',
        attempts: 0,
        max_attempts: WEBHOOK_MAX_ATTEMPTS,
        next_attempt_at: now,
        claimed_by: null,
        last_attempt_at: null,
        last_status_code: null,
        last_error: null,
        last_duration_ms: null,
        delivered_at: null,
        redelivery_of: original.id,
        created_at: now,
      })
      .execute();
    return fresh;
  });
  return (await findDelivery(db, newRowId))!;
}

/**
 * Records a `WebhookTest` event for the app (Ferry's own: `{ "webhookTestWebhook": { "consentId":
 * null, "event": "WebhookTest", "data": { "message", "sentAt" } } }`), delivered like any other.
 */
export async function recordTestEvent(db: Kysely<Database>, appId: string, now: number): Promise<DeliveryView> {
  const app = await db.selectFrom('apps').select('webhook_url').where('id', '=', appId).executeTakeFirst();
  if (app === undefined) throw new WebhookRequestRefused('not-found', `No app with client id ${appId}.`);
  if (app.webhook_url === null) throw new WebhookRequestRefused('no-webhook-url', 'The app has no webhook URL.');
  const eventId = await db.transaction().execute((trx) =>
    recordEvent(trx, { appId, consentId: '', event: 'WebhookTest', data: { message: 'A test event from Ferry: your webhook URL is reachable.', sentAt: new Date(now).toISOString() }, now }),
  );
  const [delivery] = await listDeliveries(db, { appId, eventId, limit: 1 });
  return delivery!;
}

/** The numbers to watch (gauges for /metrics, issue 8; `ferry webhooks stats`). */
export interface WebhookQueueMetrics {
  /** Delivery rows by status (all time, as far as they are kept). */
  deliveries: { pending: number; delivered: number; failed: number };
  /** Pending deliveries due now or overdue: the backlog the workers have not reached. */
  due: number;
  /** Pending deliveries waiting for a retry (their last try failed). */
  retrying: number;
  /** Pending deliveries a worker is trying right now (or whose worker died, until its lease runs out). */
  inFlight: number;
  /** Age of the oldest pending delivery in seconds (0 when none): how far behind delivery is. */
  oldestUndeliveredAgeSeconds: number;
}

export async function webhookMetrics(db: Kysely<Database>, now: number): Promise<WebhookQueueMetrics> {
  const byStatus = await db.selectFrom('webhook_deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const pending = await db
    .selectFrom('webhook_deliveries')
    .select([
      (eb) => eb.fn.min('created_at').as('oldest'),
      (eb) => eb.fn.sum<number>(eb.case().when('next_attempt_at', '<=', now).then(1).else(0).end()).as('due'),
      (eb) => eb.fn.sum<number>(eb.case().when('last_error', 'is not', null).then(1).else(0).end()).as('retrying'),
      (eb) => eb.fn.sum<number>(eb.case().when('claimed_by', 'is not', null).then(1).else(0).end()).as('in_flight'),
    ])
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  const counts = { pending: 0, delivered: 0, failed: 0 };
  for (const row of byStatus) counts[row.status] = Number(row.n);
  const oldest = pending.oldest === null ? null : Number(pending.oldest);
  return {
    deliveries: counts,
    due: Number(pending.due ?? 0),
    retrying: Number(pending.retrying ?? 0),
    inFlight: Number(pending.in_flight ?? 0),
    oldestUndeliveredAgeSeconds: oldest === null ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
  };
}

/** Delivered and failed deliveries are kept this long for the app to look back at, then pruned. */
export const FINISHED_DELIVERY_RETENTION_MS = 30 * 86_400_000;

/** Deletes up to `limit` finished deliveries older than the retention; pending ones are never pruned. */
export async function pruneFinishedDeliveries(db: Kysely<Database>, now: number, limit = 5_000): Promise<number> {
  const old = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', 'in', ['delivered', 'failed'])
    .where('created_at', '<', now - FINISHED_DELIVERY_RETENTION_MS)
    .limit(limit);
  const result = await db.deleteFrom('webhook_deliveries').where('id', 'in', old).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes up to `limit` events older than the deliveries' retention that no delivery refers to any
 * more (their deliveries were pruned, or the app had no webhook URL): the outbox does not grow
 * without end. An event with a pending delivery stays until that delivery is finished and pruned.
 */
export async function pruneOldEvents(db: Kysely<Database>, now: number, limit = 5_000): Promise<number> {
  const old = db
    .selectFrom('events')
    .select('events.id')
    .where('events.created_at', '<', now - FINISHED_DELIVERY_RETENTION_MS)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'events.id'))))
    .limit(limit);
  const result = await db.deleteFrom('events').where('id', 'in', old).executeTakeFirst();
  return Number(result.numDeletedRows);
}

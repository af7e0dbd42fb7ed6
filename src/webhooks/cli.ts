import type { ParseArgsConfig } from 'node:util';
import { AppError } from '../apps/apps.js';
import type { FerryDatabase } from '../db/database.js';
import { listDeliveries, recordTestEvent, redeliver, webhookMetrics, WebhookRequestRefused, type DeliveryView } from './deliveries.js';

/** The shape of a CLI command in src/main.ts (structural, so this file does not import main). */
interface CliCommand {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: string[];
  run(args: { values: Record<string, unknown>; positionals: string[]; out: { log(line: string): void } }): Promise<number>;
}

interface CliParts {
  help: NonNullable<ParseArgsConfig['options']>;
  json: NonNullable<ParseArgsConfig['options']>;
  withMigratedDatabase<T>(fn: (database: FerryDatabase) => Promise<T>): Promise<T>;
}

const STATUSES = ['pending', 'delivered', 'failed'] as const;

/**
 * `ferry webhooks …`: the operator's view of deliveries (every app's, or one app's), redeliver,
 * a test event, and the queue's numbers. A running `ferry start` does the sending.
 */
export function webhooksCommands({ help, json, withMigratedDatabase }: CliParts): Record<string, CliCommand> {
  const refused = (error: unknown): never => {
    throw error instanceof WebhookRequestRefused ? new AppError(error.message) : error;
  };
  return {
    'webhooks deliveries': {
      usage: 'ferry webhooks deliveries [--app CLIENT_ID] [--status pending|delivered|failed] [--event-id ID] [--consent-id ID] [--limit N] [--json]',
      summary: 'Recent webhook deliveries, newest first: event, status, tries, last answer or error.',
      options: { ...help, ...json, app: { type: 'string' }, status: { type: 'string' }, 'event-id': { type: 'string' }, 'consent-id': { type: 'string' }, limit: { type: 'string' } },
      run: ({ values, out }) =>
        withMigratedDatabase(async (database) => {
          const limit = values.limit === undefined ? 20 : Number(values.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AppError('--limit must be a whole number from 1 to 1000.');
          const status = values.status as string | undefined;
          if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) throw new AppError(`--status must be one of ${STATUSES.join(', ')}.`);
          const deliveries = await listDeliveries(database.db, {
            limit,
            ...(values.app !== undefined ? { appId: String(values.app) } : {}),
            ...(status !== undefined ? { status: status as (typeof STATUSES)[number] } : {}),
            ...(values['event-id'] !== undefined ? { eventId: String(values['event-id']) } : {}),
            ...(values['consent-id'] !== undefined ? { consentId: String(values['consent-id']) } : {}),
          });
          if (values.json) out.log(JSON.stringify(deliveries));
          else if (deliveries.length === 0) out.log('No webhook deliveries yet.');
          else for (const d of deliveries) out.log(describe(d));
          return 0;
        }),
    },
    'webhooks redeliver': {
      usage: 'ferry webhooks redeliver DELIVERY_ID [--json]',
      summary: 'Send a delivery’s event again (same event id): a new delivery if it was delivered or failed, now if it is pending.',
      options: { ...help, ...json },
      positionals: ['DELIVERY_ID'],
      run: ({ values, positionals, out }) =>
        withMigratedDatabase(async (database) => {
          const delivery = await redeliver(database.db, positionals[0]!, Date.now()).catch(refused);
          out.log(values.json ? JSON.stringify(delivery) : `Queued: ${describe(delivery)}\nA running Ferry sends it within a second.`);
          return 0;
        }),
    },
    'webhooks test': {
      usage: 'ferry webhooks test CLIENT_ID [--json]',
      summary: 'Queue a WebhookTest event for an app; a running Ferry delivers it, signed, like any event.',
      options: { ...help, ...json },
      positionals: ['CLIENT_ID'],
      run: ({ values, positionals, out }) =>
        withMigratedDatabase(async (database) => {
          const delivery = await recordTestEvent(database.db, positionals[0]!, Date.now()).catch(refused);
          out.log(values.json ? JSON.stringify(delivery) : `Queued: ${describe(delivery)}\nFollow it with: ferry webhooks deliveries --event-id ${delivery.eventId}`);
          return 0;
        }),
    },
    'webhooks stats': {
      usage: 'ferry webhooks stats [--json]',
      summary: 'Webhook deliveries by status, the backlog due now, and the age of the oldest undelivered event.',
      options: { ...help, ...json },
      run: ({ values, out }) =>
        withMigratedDatabase(async (database) => {
          const m = await webhookMetrics(database.db, Date.now());
          if (values.json) out.log(JSON.stringify(m));
          else {
            out.log(`Deliveries: ${m.deliveries.pending} pending (${m.due} due now, ${m.retrying} waiting to retry, ${m.inFlight} being tried), ${m.deliveries.delivered} delivered, ${m.deliveries.failed} failed.`);
            out.log(m.deliveries.pending === 0 ? 'Nothing is waiting to be delivered.' : `The oldest undelivered event is ${m.oldestUndeliveredAgeSeconds} s old.`);
          }
          return 0;
        }),
    },
  };
}

function describe(d: DeliveryView): string {
  const outcome =
    d.status === 'Delivered'
      ? `delivered ${d.deliveredAt} (${d.lastDurationMs} ms)`
      : d.status === 'Failed'
        ? `failed after ${d.attempts} tries: ${d.lastError}`
        : d.attempts === 0
          ? `pending, first try ${d.nextAttemptAt}`
          : `pending, try ${d.attempts + 1} of ${d.maxAttempts} at ${d.nextAttemptAt} (last: ${d.lastError})`;
  return `${d.id}  ${d.createdAt}  ${d.event.padEnd(16)} event ${d.eventId}  ${outcome}`;
}

import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { createApp } from '../../src/apps/apps.js';
import type { Clock } from '../../src/clock.js';
import type { FerryDatabase } from '../../src/db/database.js';
import { recordEvent, type EventName } from '../../src/events/outbox.js';
import { createLogger } from '../../src/logger.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/webhooks/dispatcher.js';

export const WEBHOOK_SECRET = 'whsec_test_5f1c0e2b9a';

export interface WebhookApp {
  clientId: string;
  clientSecret: string;
  basic: string;
}

/** An app whose webhook URL points at the receiver (http to loopback: allowed while the sandbox is on). */
export async function createWebhookApp(database: FerryDatabase, clock: Clock, webhookUrl: string, webhookSecret: string | null = WEBHOOK_SECRET): Promise<WebhookApp> {
  const { app, clientSecret } = await createApp(database.db, clock, { name: 'Hook Shop', redirectUris: ['https://app.example.com/callback'], webhookUrl, webhookSecret });
  return { clientId: app.id, clientSecret, basic: `Basic ${Buffer.from(`${app.id}:${clientSecret}`, 'latin1').toString('base64')}` };
}

/** Records an event in its own transaction, as a sync or a revocation would in theirs. */
export async function recordTestEvents(database: FerryDatabase, clock: Clock, appId: string, count: number, event: EventName = 'SyncDone'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      await database.db.transaction().execute((trx) =>
        recordEvent(trx, { appId, consentId: `consent-${i}`, event, data: event === 'ConsentRevoked' ? null : { syncedAccountIds: [`account-${i}`] }, now: clock.now() }),
      ),
    );
  }
  return ids;
}

/** A log destination the test can read: one parsed JSON object per line. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export function capturingLogger(capture: LogCapture): FastifyBaseLogger {
  return createLogger('debug', capture) as unknown as FastifyBaseLogger;
}

/** A dispatcher over the database with its own options (short timeouts, a chosen policy, a resolver). */
export function createDispatcher(
  database: FerryDatabase,
  clock: Clock,
  options: Partial<WebhookDispatcherOptions> & { logger?: FastifyBaseLogger } = {},
): WebhookDispatcher {
  return new WebhookDispatcher({
    database,
    clock,
    logger: options.logger ?? (createLogger('silent') as unknown as FastifyBaseLogger),
    policy: { allowPrivate: false, allowLoopback: true },
    timeoutMs: 2_000,
    ...options,
  });
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import { InvalidRequest, NotFound } from '../errors.js';
import { authenticateClient, BasicAuthFailed, readClientCredentials } from '../oauth/client-auth.js';
import { findDelivery, listDeliveries, recordTestEvent, redeliver, STATUS_FROM_NAME, WebhookRequestRefused, type DeliveryStatus } from './deliveries.js';

export interface WebhookRoutesOptions {
  database: FerryDatabase;
  clock: Clock;
  /** Called when a delivery was queued for now (the dispatcher looks at once). */
  onQueued?: () => void;
}

export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;

const nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const DeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'The delivery’s id (for redeliver).' }),
    eventId: Type.String({ description: 'Sent as X-Aiia-EventId: the same on every try and every redelivery of the event.' }),
    event: Type.String({ description: 'SyncDone, AccountsUpdated, ConsentRevoked, DataDeleted, WebhookTest, …' }),
    consentId: nullable(Type.String()),
    url: Type.String({ description: 'Where the latest try went (the app’s webhook URL at that time).' }),
    status: Type.String({ enum: ['Pending', 'Delivered', 'Failed'] }),
    attempts: Type.Integer({ description: 'Tries so far.' }),
    maxAttempts: Type.Integer(),
    nextAttemptAt: nullable(Timestamp),
    lastAttemptAt: nullable(Timestamp),
    lastStatusCode: nullable(Type.Integer()),
    lastError: nullable(Type.String({ description: 'Why the latest try failed: a status, a timeout, a network error, or a refused address.' })),
    lastDurationMs: nullable(Type.Integer()),
    deliveredAt: nullable(Timestamp),
    createdAt: Timestamp,
    redeliveryOf: nullable(Type.String({ description: 'The delivery this one sends again.' })),
  },
  { $id: 'WebhookDelivery' },
);

const ErrorSchema = Type.Object({ error: Type.String(), error_description: Type.String() });
const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema };
const security = [{ basic: [] as string[] }];

/**
 * The app developer's view of its webhooks: recent deliveries and their outcomes, redeliver one,
 * send a test event. Authenticated like the token endpoint, with the app's client credentials in
 * HTTP Basic; an app sees only its own deliveries (another app's id is a 404).
 */
export async function webhookRoutes(fastify: FastifyInstance, options: WebhookRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { database, clock } = options;
  const db = database.db;
  app.addSchema(DeliverySchema);

  const authenticate = async (request: FastifyRequest) => {
    // No credentials at all is a 401 with a Basic challenge too (RFC 9110 §11.6.1).
    if (request.headers.authorization === undefined) throw new BasicAuthFailed('Authenticate with HTTP Basic: the app’s client id and secret.');
    return authenticateClient(db, clock, readClientCredentials(request.headers.authorization, {}));
  };
  const refused = (error: unknown): never => {
    if (error instanceof WebhookRequestRefused) throw error.kind === 'not-found' ? new NotFound(error.message) : new InvalidRequest(error.message);
    throw error;
  };

  app.get(
    '/v1/webhooks/deliveries',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Recent webhook deliveries',
        description: 'The app’s deliveries, newest first, with each one’s tries and outcome. Filter by status, event id or consent id.',
        security,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT })),
          status: Type.Optional(Type.String({ enum: ['Pending', 'Delivered', 'Failed'] })),
          eventId: Type.Optional(Type.String({ maxLength: 64 })),
          consentId: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(Type.Ref('WebhookDelivery')) }), ...errors },
      },
    },
    async (request) => {
      const client = await authenticate(request);
      const { limit, status, eventId, consentId } = request.query;
      const deliveries = await listDeliveries(db, {
        appId: client.id,
        limit: limit ?? DEFAULT_LIST_LIMIT,
        ...(status !== undefined ? { status: STATUS_FROM_NAME[status as DeliveryStatus] } : {}),
        ...(eventId !== undefined ? { eventId } : {}),
        ...(consentId !== undefined ? { consentId } : {}),
      });
      return { deliveries };
    },
  );

  app.get(
    '/v1/webhooks/deliveries/:deliveryId',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'One webhook delivery',
        security,
        params: Type.Object({ deliveryId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Ref('WebhookDelivery'), ...errors },
      },
    },
    async (request) => {
      const client = await authenticate(request);
      const delivery = await findDelivery(db, request.params.deliveryId, client.id);
      if (delivery === undefined) throw new NotFound('No such delivery for this app.');
      return delivery;
    },
  );

  app.post(
    '/v1/webhooks/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Send a delivery’s event again',
        description:
          'A delivered or failed delivery gets a new delivery, due now, with the same event id (X-Aiia-EventId): a receiver that dedupes will skip an event it already handled. A pending delivery is brought forward to now.',
        security,
        params: Type.Object({ deliveryId: Type.String({ maxLength: 64 }) }),
        response: { 202: Type.Ref('WebhookDelivery'), ...errors },
      },
    },
    async (request, reply) => {
      const client = await authenticate(request);
      const delivery = await redeliver(db, request.params.deliveryId, clock.now(), client.id).catch(refused);
      options.onQueued?.();
      return reply.code(202).send(delivery);
    },
  );

  app.post(
    '/v1/webhooks/test',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Send a test event',
        description:
          'Records a WebhookTest event and delivers it like any other: `{ "webhookTestWebhook": { "consentId": null, "event": "WebhookTest", "data": { "message", "sentAt" } } }`, signed when the app has a webhook secret. Answers the delivery; follow it with GET /v1/webhooks/deliveries/{id}.',
        security,
        response: { 202: Type.Ref('WebhookDelivery'), ...errors },
      },
    },
    async (request, reply) => {
      const client = await authenticate(request);
      const delivery = await recordTestEvent(db, client.id, clock.now()).catch(refused);
      options.onQueued?.();
      return reply.code(202).send(delivery);
    },
  );
}

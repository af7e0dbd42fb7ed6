import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import type { ConsentRow, DeletionReceiptRow } from '../db/schema.js';
import { NotFound } from '../errors.js';
import { authenticateClient, readClientCredentials } from '../oauth/client-auth.js';
import type { ConsentRevoker } from './revoke.js';

export interface ConsentRoutesOptions {
  database: FerryDatabase;
  clock: Clock;
  /** Revocation: erasure, webhooks and the bank's consent (src/consents/revoke.ts). */
  revoker: ConsentRevoker;
}

const ReceiptSchema = Type.Object({
  erasedAt: Type.String({ format: 'date-time' }),
  reason: Type.String({ enum: ['OneTimeRetention', 'ConsentRevoked'] }),
  deadline: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  rowCounts: Type.Record(Type.String(), Type.Integer()),
});

const ConsentSchema = Type.Object({
  consentId: Type.String(),
  status: Type.String({ enum: ['Active', 'Expired', 'Revoked', 'Deleted'], description: 'Expired: past its one-time deadline, not yet erased; Deleted: erased, see receipt.' }),
  scopes: Type.Array(Type.String()),
  oneTime: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  deleteAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'One-time consents: when everything about the user is erased.' }),
  providerId: Type.Union([Type.String(), Type.Null()]),
  receipt: Type.Union([ReceiptSchema, Type.Null()]),
});

const ErrorSchema = Type.Object({ error: Type.String(), error_description: Type.String() });

/**
 * The app's view of its consents (issue #6): GET shows one (and, once erased, its deletion
 * receipt); DELETE revokes it, which erases its data at once and tells the app by webhook
 * (`ConsentRevoked`, then `DataDeleted`). Authenticated like the token endpoint (HTTP Basic
 * with the app's client credentials); another app's consent is a 404.
 */
export async function consentRoutes(fastify: FastifyInstance, options: ConsentRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { database, clock } = options;
  const db = database.db;
  const authenticate = (request: FastifyRequest) => authenticateClient(db, clock, readClientCredentials(request.headers.authorization, {}));
  const params = Type.Object({ consentId: Type.String({ maxLength: 64 }) });
  const schema = (summary: string, description: string) => ({
    tags: ['Consents'],
    summary,
    description,
    security: [{ basic: [] as string[] }],
    params,
    response: { 200: ConsentSchema, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema },
  });

  app.get(
    '/v1/consents/:consentId',
    { schema: schema('A consent of this app', 'Status, scopes, created, the one-time deadline, and after erasure the deletion receipt.') },
    async (request) => {
      const client = await authenticate(request);
      const consent = await db.selectFrom('consents').selectAll().where('id', '=', request.params.consentId).where('app_id', '=', client.id).executeTakeFirst();
      if (consent !== undefined) return consentView(consent, clock.now());
      const receipt = await db.selectFrom('deletion_receipts').selectAll().where('consent_id', '=', request.params.consentId).where('app_id', '=', client.id).executeTakeFirst();
      if (receipt === undefined) throw new NotFound('No such consent for this app.');
      return receiptView(receipt);
    },
  );

  app.delete(
    '/v1/consents/:consentId',
    { schema: schema('Revoke a consent', 'Ends the app’s access and erases the consent’s data at once; the app receives ConsentRevoked and DataDeleted webhooks. Revoking an erased consent answers its receipt.') },
    async (request) => {
      const client = await authenticate(request);
      const consentId = request.params.consentId;
      const revoked = await options.revoker.revoke(consentId, (consent) => consent.app_id === client.id);
      if (revoked !== null) return receiptView(revoked.receipt);
      const earlier = await db.selectFrom('deletion_receipts').selectAll().where('consent_id', '=', consentId).where('app_id', '=', client.id).executeTakeFirst();
      if (earlier === undefined) throw new NotFound('No such consent for this app.');
      return receiptView(earlier);
    },
  );
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

export function consentView(consent: ConsentRow, now: number) {
  const expired = consent.delete_at !== null && consent.delete_at <= now;
  return {
    consentId: consent.id,
    status: expired && consent.status === 'Active' ? 'Expired' : consent.status,
    scopes: consent.scopes.split(' '),
    oneTime: consent.one_time === 1,
    createdAt: iso(consent.created_at)!,
    deleteAt: iso(consent.delete_at),
    providerId: consent.provider_id,
    receipt: null,
  };
}

export function receiptView(receipt: DeletionReceiptRow) {
  return {
    consentId: receipt.consent_id,
    status: 'Deleted',
    scopes: receipt.scopes.split(' '),
    oneTime: receipt.one_time === 1,
    createdAt: iso(receipt.consent_created_at)!,
    deleteAt: iso(receipt.deadline),
    providerId: null,
    receipt: {
      erasedAt: iso(receipt.erased_at)!,
      reason: receipt.reason,
      deadline: iso(receipt.deadline),
      rowCounts: JSON.parse(receipt.row_counts) as Record<string, number>,
    },
  };
}

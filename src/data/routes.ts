import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { loadRedirectUris } from '../apps/apps.js';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import { InvalidRequest, NotFound } from '../errors.js';
import { createFlowSession } from '../flow/session.js';
import { matchRedirectUri } from '../oauth/redirect-uri.js';
import type { TokenService } from '../oauth/token-service.js';
import type { BankProvider } from '../providers/types.js';
import { bearerAuthentication, type BearerContext } from './bearer.js';
import { createDataStore, type TransactionWireRow } from './data-store.js';
import { numberToMinor } from './money.js';
import type { PagePosition, PagingTokens } from './paging.js';
import { AccountSchema, ApiErrorSchema, TransactionPageSchema, TransactionQuerySchema, TransactionSchema } from './schemas.js';
import { accountListJson, serializeAccount, serializeTransaction, transactionPageJson } from './serialize.js';
import { queueSync } from './sync.js';

export interface DataRoutesOptions {
  database: FerryDatabase;
  clock: Clock;
  tokens: TokenService;
  providers: { get(id: string): BankProvider | undefined };
  paging: PagingTokens;
  issuer: string;
  flowStartPath: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** PSD2 (RTS art. 10): without the user present, a bank login gives access for 90 days. */
export const UNATTENDED_ACCESS_MS = 90 * 86_400_000;

const errors = { 400: ApiErrorSchema, 401: ApiErrorSchema, 403: ApiErrorSchema, 404: ApiErrorSchema };
const security = [{ bearer: [] as string[] }];

/** The data API of aiia-api.md §4: accounts, transactions, update, all-accounts-selected. */
export async function dataRoutes(fastify: FastifyInstance, options: DataRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { database, clock, paging } = options;
  const db = database.db;
  const store = createDataStore(database);
  // Every route checks the token and its grant's liveness before anything else (bearer.ts), and
  // reads what it needs first in the same query: the consent's accounts, or the account in its path.
  const authenticate = bearerAuthentication({ store, clock, tokens: options.tokens });
  const bearerOf = (request: FastifyRequest): BearerContext => request.bearer!;
  const providerName = (id: string) => options.providers.get(id)?.describe().name ?? id;
  const accountOf = (request: FastifyRequest) => {
    // Another consent's id is a 404 like an unknown one, so ids cannot be probed.
    if (request.pathAccount === undefined) throw new NotFound('No such account for this consent.');
    return request.pathAccount;
  };

  app.get(
    '/v1/accounts',
    {
      schema: { tags: ['Data'], summary: 'The consent’s accounts', security, response: { 200: Type.Object({ accounts: Type.Array(Type.Ref('Account')) }), ...errors } },
      onRequest: authenticate.withAccounts,
    },
    // JSON text written here (serialize.ts), byte for byte what the response schema would write.
    async (request, reply) => sendJsonText(reply, accountListJson(request.consentAccounts!, providerName)),
  );

  app.get(
    '/v1/accounts/:accountId',
    {
      schema: { tags: ['Data'], summary: 'One account', security, params: Type.Object({ accountId: Type.String({ maxLength: 64 }) }), response: { 200: Type.Ref('Account'), ...errors } },
      onRequest: authenticate.withAccount,
    },
    async (request) => {
      const row = accountOf(request);
      return serializeAccount(row, providerName(row.provider_id));
    },
  );

  app.get(
    '/v1/accounts/:accountId/transactions',
    {
      schema: {
        tags: ['Data'],
        summary: 'Transactions of an account, newest first',
        description: 'Keep paging with pagingToken until it is null.',
        security,
        params: Type.Object({ accountId: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({
          pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
          pagingToken: Type.Optional(Type.String({ maxLength: 512 })),
        }),
        response: { 200: TransactionPageSchema, ...errors },
      },
      onRequest: authenticate.withAccount,
    },
    async (request, reply) => {
      const account = accountOf(request);
      const pageSize = request.query.pageSize ?? DEFAULT_PAGE_SIZE;
      const after = pagePosition(paging, request.query.pagingToken ?? null, account.id, 'all');
      const rows = await store.transactionPage(account.id, { ...NO_FILTER, after, limit: pageSize + 1 });
      return sendJsonText(reply, pageAnswer(paging, account.id, 'all', pageSize, rows));
    },
  );

  app.post(
    '/v1/accounts/:accountId/transactions/query',
    {
      schema: {
        tags: ['Data'],
        summary: 'Query transactions of an account',
        security,
        params: Type.Object({ accountId: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ includeDeleted: Type.Optional(Type.Boolean()) }),
        body: Type.Union([TransactionQuerySchema, Type.Null()]),
        response: { 200: TransactionPageSchema, ...errors },
      },
      onRequest: authenticate.withAccount,
    },
    async (request, reply) => {
      const account = accountOf(request);
      const body = request.body ?? {};
      const includeDeleted = request.query.includeDeleted ?? false;
      const filter = {
        interval: body.interval === undefined ? null : parseInterval(body.interval),
        amount: body.amountValueBetween ? toMinorRange(body.amountValueBetween, account.currency) : null,
        balance: body.balanceValueBetween ? toMinorRange(body.balanceValueBetween, account.currency) : null,
      };
      const queryKey = createHash('sha256').update(JSON.stringify([filter, includeDeleted])).digest('base64url');
      const pageSize = body.pageSize ?? DEFAULT_PAGE_SIZE;
      const after = pagePosition(paging, body.pagingToken ?? null, account.id, queryKey);
      const rows = await store.transactionPage(account.id, { includeDeleted, ...filter, after, limit: pageSize + 1 });
      return sendJsonText(reply, pageAnswer(paging, account.id, queryKey, pageSize, rows));
    },
  );

  app.get(
    '/v1/accounts/:accountId/transactions/:transactionId',
    {
      schema: {
        tags: ['Data'],
        summary: 'One transaction',
        security,
        params: Type.Object({ accountId: Type.String({ maxLength: 64 }), transactionId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Ref('Transaction'), ...errors },
      },
      onRequest: authenticate.withAccount,
    },
    async (request) => {
      const account = accountOf(request);
      const row = await db.selectFrom('transactions').selectAll().where('id', '=', request.params.transactionId).where('account_id', '=', account.id).executeTakeFirst();
      if (row === undefined) throw new NotFound('No such transaction on this account.');
      return serializeTransaction(row, account.id);
    },
  );

  app.post(
    '/v1/update',
    {
      schema: {
        tags: ['Data'],
        summary: 'Ask for fresh data',
        description:
          'Queues a resync (AllQueued), or, where the bank needs the user present (a bank that always does, or a login older than 90 days), answers SupervisedLoginRequired with an authUrl into the hosted flow that returns to redirectUrl.',
        security,
        body: Type.Union([Type.Object({ redirectUrl: Type.Optional(Type.String({ maxLength: 2000 })) }), Type.Null()]),
        response: { 200: Type.Object({ status: Type.String({ enum: ['AllQueued', 'SupervisedLoginRequired'] }), authUrl: Type.Union([Type.String(), Type.Null()]) }), ...errors },
      },
      onRequest: authenticate.live,
    },
    async (request) => {
      const bearer = bearerOf(request);
      const now = clock.now();
      const connection = await db.selectFrom('connections').selectAll().where('consent_id', '=', bearer.consentId).executeTakeFirst();
      if (connection === undefined) throw new NotFound('This consent has no bank connection yet.');
      const provider = options.providers.get(connection.provider_id);
      const supervised =
        provider?.describe().requiresSupervisedUpdate === true || connection.needs_login === 1 || connection.last_login_at + UNATTENDED_ACCESS_MS <= now;
      if (!supervised) {
        await queueSync(db, bearer.consentId, now, now);
        return { status: 'AllQueued', authUrl: null };
      }
      const redirectUrl = request.body?.redirectUrl;
      if (!redirectUrl) throw new InvalidRequest('This bank needs the user to log in again: send redirectUrl, a registered redirect URI to return to.');
      if (matchRedirectUri(await loadRedirectUris(db, bearer.appId), redirectUrl) === null) throw new InvalidRequest('redirectUrl is not a registered redirect URI of this app.');
      const consent = await db.selectFrom('consents').select(['scopes', 'group_id', 'group_name']).where('id', '=', bearer.consentId).executeTakeFirstOrThrow();
      const { handle } = await createFlowSession(db, clock, {
        appId: bearer.appId,
        redirectUri: redirectUrl,
        state: null,
        scopes: consent.scopes,
        codeChallenge: null,
        params: {
          culture: null,
          providerId: connection.provider_id,
          email: null,
          consentId: bearer.consentId,
          selectAllAccounts: true,
          accountsGroupId: consent.group_id,
          accountsGroupName: consent.group_name,
          bankAccountNumbers: [],
          reconnectConsentId: bearer.consentId,
        },
      });
      return { status: 'SupervisedLoginRequired', authUrl: `${options.issuer}${options.flowStartPath}?f=${handle}` };
    },
  );

  app.get(
    '/v1/consent/:consentId/all-accounts-selected',
    {
      schema: {
        tags: ['Data'],
        summary: 'Whether the user shared every account the bank offered',
        security,
        params: Type.Object({ consentId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ allAccountsSelected: Type.Boolean() }), ...errors },
      },
      onRequest: authenticate.live,
    },
    async (request) => {
      const bearer = bearerOf(request);
      if (request.params.consentId !== bearer.consentId) throw new NotFound('No such consent for this token.');
      const connection = await db.selectFrom('connections').select('bank_account_count').where('consent_id', '=', bearer.consentId).executeTakeFirst();
      const shared = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('consent_id', '=', bearer.consentId).executeTakeFirstOrThrow();
      return { allAccountsSelected: connection !== undefined && Number(shared.n) >= connection.bank_account_count };
    },
  );
}

const NO_FILTER = { includeDeleted: false, interval: null, amount: null, balance: null } as const;

/** Where a paging token says the page starts (after this keyset position); null: the first page. */
function pagePosition(paging: PagingTokens, pagingToken: string | null, accountId: string, queryKey: string): PagePosition | null {
  return pagingToken ? paging.decode(pagingToken, accountId, queryKey) : null;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sends JSON text written by serialize.ts as is: Fastify serializes only what is not already a
 * string, so the route's response schema documents the answer without writing it.
 */
function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type(JSON_TYPE).send(json);
}

/** A page answer, as JSON text, from up to pageSize + 1 rows: the extra row only says there is a next page. */
function pageAnswer(paging: PagingTokens, accountId: string, queryKey: string, pageSize: number, rows: TransactionWireRow[]): string {
  const more = rows.length > pageSize;
  const count = more ? pageSize : rows.length;
  const last = rows[count - 1];
  const pagingToken = more && last !== undefined ? paging.encode(accountId, queryKey, { date: last.date, ordinal: Number(last.ordinal), id: last.id }) : null;
  return transactionPageJson(rows, count, accountId, pagingToken);
}

/** An ISO-8601 `start/end` interval to the dates whose midnight (UTC) lies within [start, end). */
function parseInterval(interval: string): { from: string; to: string } {
  const parts = interval.split('/');
  const [start, end] = parts.map((p) => Date.parse(p));
  if (parts.length !== 2 || start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end) || end < start) {
    throw new InvalidRequest('interval must be an ISO-8601 interval "start/end", e.g. 2026-01-01T00:00:00Z/2026-02-01T00:00:00Z.');
  }
  return { from: ceilToDate(start), to: ceilToDate(end) };
}

function ceilToDate(ms: number): string {
  const day = 86_400_000;
  return new Date(Math.ceil(ms / day) * day).toISOString().slice(0, 10);
}

function toMinorRange(range: { min?: number; max?: number }, currency: string) {
  if (range.min !== undefined && range.max !== undefined && range.min > range.max) throw new InvalidRequest('A range’s min is above its max.');
  return { min: range.min === undefined ? null : numberToMinor(range.min, currency), max: range.max === undefined ? null : numberToMinor(range.max, currency) };
}

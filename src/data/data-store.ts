import type { Kysely } from 'kysely';
import { prepareQuery, type FerryDatabase, type QueryParam } from '../db/database.js';
import type { AccountRow, Database, TransactionRow } from '../db/schema.js';
import type { PagePosition } from './paging.js';

/**
 * The data API's reads, each one query prepared once (src/db/database.ts: `prepareQuery`). The
 * bearer check reads the grant and consent on every request, together with what the route reads
 * first (the consent's accounts, or the account in the path): one query, one round trip to
 * PostgreSQL, one snapshot.
 */

/** What the bearer check reads on every request: the grant and its consent. */
export interface Liveness {
  grant_revoked_at: number | null;
  grant_expires_at: number | null;
  grant_app_id: string;
  consent_id: string;
  consent_status: string;
  consent_delete_at: number | null;
}

/** The account columns the wire shows (serializeAccount). */
export const ACCOUNT_WIRE_COLUMNS = [
  'id',
  'name',
  'owner',
  'type',
  'currency',
  'booked_minor',
  'available_minor',
  'provider_id',
  'bban',
  'bban_bank_code',
  'bban_account_number',
  'bban_type',
  'iban',
  'card',
  'last_synchronized',
  'sync_status',
  'is_orphaned',
  'group_id',
  'group_name',
] as const;
export type AccountWireColumn = (typeof ACCOUNT_WIRE_COLUMNS)[number];
export type AccountWireRow = Pick<AccountRow, AccountWireColumn>;

/** The transaction columns the wire shows (serializeTransaction), with the keyset's ordinal. */
export const TRANSACTION_WIRE_COLUMNS = [
  'id',
  'date',
  'ordinal',
  'text',
  'original_text',
  'amount_minor',
  'currency',
  'balance_minor',
  'state',
  'type',
  'value_date',
  'counterparty_name',
  'category',
  'is_deleted',
  'created_at',
] as const;
export type TransactionWireColumn = (typeof TRANSACTION_WIRE_COLUMNS)[number];
export type TransactionWireRow = Pick<TransactionRow, TransactionWireColumn>;

/** A page of an account's transactions, newest first, after a keyset position. */
export interface PageFilter {
  includeDeleted: boolean;
  /** Dates in [from, to). */
  interval: { from: string; to: string } | null;
  amount: { min: number | null; max: number | null } | null;
  balance: { min: number | null; max: number | null } | null;
  after: PagePosition | null;
  limit: number;
}

const LIVENESS_COLUMNS = [
  'grants.revoked_at as grant_revoked_at',
  'grants.expires_at as grant_expires_at',
  'grants.app_id as grant_app_id',
  'consents.id as consent_id',
  'consents.status as consent_status',
  'consents.delete_at as consent_delete_at',
] as const;
const ACCOUNT_COLUMNS_OF_JOIN = ACCOUNT_WIRE_COLUMNS.map((c) => `accounts.${c}` as const);

export function createDataStore(database: FerryDatabase) {
  const liveness = prepareQuery(database, (db, param: QueryParam<{ grantId: string }>) => livenessOf(db).select(LIVENESS_COLUMNS).where('grants.id', '=', param('grantId')));
  // One row per account, in order, or one row of nulls beside the liveness when the consent has none.
  const livenessAndAccounts = prepareQuery(database, (db, param: QueryParam<{ grantId: string }>) =>
    livenessOf(db)
      .leftJoin('accounts', 'accounts.consent_id', 'consents.id')
      .select(LIVENESS_COLUMNS)
      .select(ACCOUNT_COLUMNS_OF_JOIN)
      .where('grants.id', '=', param('grantId'))
      .orderBy('accounts.position'),
  );
  // Another consent's account is not joined: it is a 404 like an unknown id, so ids cannot be probed.
  const livenessAndAccount = prepareQuery(database, (db, param: QueryParam<{ grantId: string; accountId: string }>) =>
    livenessOf(db)
      .leftJoin('accounts', (join) => join.onRef('accounts.consent_id', '=', 'consents.id').on('accounts.id', '=', param('accountId')))
      .select(LIVENESS_COLUMNS)
      .select(ACCOUNT_COLUMNS_OF_JOIN)
      .where('grants.id', '=', param('grantId')),
  );
  // Each combination of filters is its own statement, so the planner sees only the conditions
  // that apply; a GET page is one of two.
  const buildPage = (shape: PageShape) => prepareQuery(database, (db, param: QueryParam<PageParams>) => transactionsOfPage(db, shape, param));
  const pages = new Map<number, ReturnType<typeof buildPage>>();

  return {
    liveness: (grantId: string): Promise<Liveness | undefined> => liveness.first({ grantId }),

    /** The grant's liveness and its consent's accounts in their order. */
    async livenessAndAccounts(grantId: string): Promise<{ live: Liveness | undefined; accounts: AccountWireRow[] }> {
      const rows = await livenessAndAccounts.all({ grantId });
      return { live: rows[0], accounts: rows.filter((row): row is (typeof rows)[number] & AccountWireRow => row.id !== null) };
    },

    /** The grant's liveness and the account, if it is the consent's. */
    async livenessAndAccount(grantId: string, accountId: string): Promise<{ live: Liveness | undefined; account: AccountWireRow | undefined }> {
      const row = await livenessAndAccount.first({ grantId, accountId });
      return { live: row, account: row !== undefined && row.id !== null ? (row as typeof row & AccountWireRow) : undefined };
    },

    /** A page of an account's transactions (the caller has checked the account is the consent's). */
    transactionPage(accountId: string, filter: PageFilter): Promise<TransactionWireRow[]> {
      const shape = shapeOf(filter);
      // The shape's flags as the bits of a number: one statement per combination.
      let key = 0;
      for (const on of Object.values(shape)) key = key * 2 + (on ? 1 : 0);
      let query = pages.get(key);
      if (query === undefined) pages.set(key, (query = buildPage(shape)));
      return query.all(pageParams(accountId, filter));
    },
  };
}

export type DataStore = ReturnType<typeof createDataStore>;

function livenessOf(db: Kysely<Database>) {
  return db.selectFrom('grants').innerJoin('consents', 'consents.id', 'grants.consent_id');
}

interface PageShape {
  includeDeleted: boolean;
  interval: boolean;
  amountMin: boolean;
  amountMax: boolean;
  balanceMin: boolean;
  balanceMax: boolean;
  after: boolean;
}

type PageParams = {
  accountId: string;
  from: string;
  to: string;
  amountMin: number;
  amountMax: number;
  balanceMin: number;
  balanceMax: number;
  afterDate: string;
  afterOrdinal: number;
  afterId: string;
  limit: number;
};

function transactionsOfPage(db: Kysely<Database>, shape: PageShape, param: QueryParam<PageParams>) {
  let select = db.selectFrom('transactions').select(TRANSACTION_WIRE_COLUMNS).where('account_id', '=', param('accountId'));
  if (!shape.includeDeleted) select = select.where('is_deleted', '=', 0);
  if (shape.interval) select = select.where('date', '>=', param('from')).where('date', '<', param('to'));
  if (shape.amountMin) select = select.where('amount_minor', '>=', param('amountMin'));
  if (shape.amountMax) select = select.where('amount_minor', '<=', param('amountMax'));
  if (shape.balanceMin) select = select.where('balance_minor', '>=', param('balanceMin'));
  if (shape.balanceMax) select = select.where('balance_minor', '<=', param('balanceMax'));
  if (shape.after) select = select.where((eb) => eb(eb.refTuple('date', 'ordinal', 'id'), '<', eb.tuple(param('afterDate'), param('afterOrdinal'), param('afterId'))));
  return select.orderBy('date', 'desc').orderBy('ordinal', 'desc').orderBy('id', 'desc').limit(param('limit'));
}

function shapeOf(filter: PageFilter): PageShape {
  return {
    includeDeleted: filter.includeDeleted,
    interval: filter.interval !== null,
    amountMin: filter.amount?.min != null,
    amountMax: filter.amount?.max != null,
    balanceMin: filter.balance?.min != null,
    balanceMax: filter.balance?.max != null,
    after: filter.after !== null,
  };
}

function pageParams(accountId: string, filter: PageFilter): PageParams {
  return {
    accountId,
    from: filter.interval?.from ?? '',
    to: filter.interval?.to ?? '',
    amountMin: filter.amount?.min ?? 0,
    amountMax: filter.amount?.max ?? 0,
    balanceMin: filter.balance?.min ?? 0,
    balanceMax: filter.balance?.max ?? 0,
    afterDate: filter.after?.date ?? '',
    afterOrdinal: filter.after?.ordinal ?? 0,
    afterId: filter.after?.id ?? '',
    limit: filter.limit,
  };
}

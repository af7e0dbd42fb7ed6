import type { Kysely } from 'kysely';
import { preparedSql, prepareQuery, type FerryDatabase, type PreparedSql, type QueryParam } from '../db/database.js';
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

  type LiveAccountRow = Liveness & { [K in AccountWireColumn]: AccountWireRow[K] | null };
  const accountsOf = (rows: readonly LiveAccountRow[]) => ({ live: rows[0], accounts: rows.filter((row): row is LiveAccountRow & AccountWireRow => row.id !== null) });
  const accountOf = (row: LiveAccountRow | undefined) => ({ live: row, account: row !== undefined && row.id !== null ? (row as LiveAccountRow & AccountWireRow) : undefined });
  // PostgreSQL: the requests of one turn of the event loop read their grants in one query (a
  // round trip, and its system calls, shared); SQLite's reads are calls into this thread, which
  // batching would only delay.
  const batchedReads = database.capabilities.dialect === 'postgres' ? postgresBatchedReads(database) : undefined;
  // SQLite: the bearer check's reads kept while the database has not changed at all (see sqliteUnchangedReads).
  const unchanged = database.capabilities.dialect === 'sqlite' ? sqliteUnchangedReads(database) : undefined;

  return {
    liveness: (grantId: string): Promise<Liveness | undefined> => liveness.first({ grantId }),

    /** The grant's liveness and its consent's accounts in their order. */
    async livenessAndAccounts(grantId: string): Promise<{ live: Liveness | undefined; accounts: AccountWireRow[] }> {
      if (batchedReads !== undefined) return accountsOf(await batchedReads.livenessAndAccounts(grantId));
      if (unchanged !== undefined) return unchanged.read(`accounts\n${grantId}`, async () => accountsOf(await livenessAndAccounts.all({ grantId })));
      return accountsOf(await livenessAndAccounts.all({ grantId }));
    },

    /** The grant's liveness and the account, if it is the consent's. */
    async livenessAndAccount(grantId: string, accountId: string): Promise<{ live: Liveness | undefined; account: AccountWireRow | undefined }> {
      if (batchedReads !== undefined) return accountOf(await batchedReads.livenessAndAccount({ grantId, accountId }));
      if (unchanged !== undefined) return unchanged.read(`account\n${grantId}\n${accountId}`, async () => accountOf(await livenessAndAccount.first({ grantId, accountId })));
      return accountOf(await livenessAndAccount.first({ grantId, accountId }));
    },

    /** A page of an account's transactions (the caller has checked the account is the consent's). */
    transactionPage(accountId: string, filter: PageFilter): Promise<TransactionWireRow[]> {
      if (batchedReads !== undefined && !filter.includeDeleted && filter.interval === null && filter.amount === null && filter.balance === null) {
        return batchedReads.page(accountId, filter.after, filter.limit);
      }
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

/** Reads kept at most by {@link sqliteUnchangedReads}. */
const UNCHANGED_READS_KEPT = 10_000;

/**
 * SQLite: a read kept for as long as the database has not changed at all, which is checked on
 * every request, before the read, by the database's change mark (src/db/database.ts
 * `sqliteChangeMark`): `total_changes()` counts every row this connection (the process's one) has
 * inserted, updated or deleted, and the WAL-index header changes when any other connection
 * (another process, a worker thread, the CLI) commits. While both stand still, reading
 * the grant, the consent and the accounts again would read the same rows; the time-dependent
 * conditions (expiry, a one-time consent's deadline) are still judged against the clock on every
 * request (bearer.ts). The first change of anything (a revocation, an erasure, a sync, any write)
 * empties the whole store, so nothing erased lingers here. ~3.5 µs (a function call and one
 * `pread`) instead of a three-table join and its rows. The version is read before the rows: a change between the two
 * leaves a value kept under the older version, which the next request finds stale.
 */
function sqliteUnchangedReads(database: FerryDatabase) {
  const changeMark = database.changeMark;
  if (changeMark === undefined) throw new Error('sqliteUnchangedReads needs the SQLite change mark');
  const kept = new Map<string, unknown>();
  let keptVersion = '';
  return {
    async read<T>(key: string, read: () => Promise<T>): Promise<T> {
      const version = changeMark();
      if (version !== keptVersion) {
        kept.clear();
        keptVersion = version;
      } else {
        const hit = kept.get(key);
        if (hit !== undefined) return hit as T;
      }
      const value = await read();
      // Kept only under the version it was read at (a write may have come in between).
      if (keptVersion === version) {
        if (kept.size >= UNCHANGED_READS_KEPT) kept.clear();
        kept.set(key, value);
      }
      return value;
    },
  };
}

/** Most keys one batched read carries; more wait for the next. */
const MAX_BATCH = 100;

/**
 * `load(key)` for many keys at once: the keys asked for in one turn of the event loop (the
 * requests read from the sockets in one poll) go to `run` together, after that turn
 * (setImmediate); a batch alone goes at once. `run` answers one result per key, in order. A
 * failing `run` fails every load of its batch, as the query failing for each would have.
 */
function batchLoader<K, R>(run: (keys: K[]) => Promise<R[]>): (key: K) => Promise<R> {
  let queue: Array<{ key: K; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  const flush = () => {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    run(batch.map((item) => item.key)).then(
      (results) => batch.forEach((item, i) => item.resolve(results[i]!)),
      (error: unknown) => batch.forEach((item) => item.reject(error)),
    );
  };
  return (key) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ key, resolve, reject });
      if (queue.length === 1) setImmediate(flush);
      else if (queue.length >= MAX_BATCH) flush();
    });
}

/**
 * The bearer check's reads for a batch of requests, on PostgreSQL: the grant ids (and account
 * ids) as arrays, numbered by `unnest … with ordinality`, each key's rows told apart by that
 * number. Each key still gets what its own query would have read, from the same snapshot as the
 * others of its batch. Keys are not merged: two requests with the same token are two keys.
 */
function postgresBatchedReads(database: FerryDatabase) {
  type Row = Liveness & { [K in AccountWireColumn]: AccountWireRow[K] | null } & { batch_index: number };
  const select = `select k.n as batch_index, ${LIVENESS_COLUMNS.join(', ')}, ${ACCOUNT_COLUMNS_OF_JOIN.join(', ')}`;
  const grantAndConsent = 'inner join grants on grants.id = k.grant_id inner join consents on consents.id = grants.consent_id';
  const accountsQuery = preparedSql(
    `${select} from unnest($1::text[]) with ordinality as k(grant_id, n) ${grantAndConsent} left join accounts on accounts.consent_id = consents.id order by k.n, accounts.position`,
  );
  const accountQuery = preparedSql(
    `${select} from unnest($1::text[], $2::text[]) with ordinality as k(grant_id, account_id, n) ${grantAndConsent} left join accounts on accounts.consent_id = consents.id and accounts.id = k.account_id`,
  );
  const byKey = (rows: Row[], keys: number): Row[][] => {
    const grouped = Array.from({ length: keys }, (): Row[] => []);
    for (const row of rows) grouped[row.batch_index - 1]!.push(row);
    return grouped;
  };
  // Pages of the GET endpoint (no filter but is_deleted): one for first pages, one for pages after
  // a keyset position, so that each stays a plain range of the keyset index for the planner.
  // Each row comes as one text, its values joined by PostgreSQL (PACKED_ROW): node-postgres
  // makes a JS string of every field it receives (~0.3 µs each here), 765 for a page of 51 rows
  // of 15 columns, which was most of a page's CPU in Node; one a row costs a twentieth of that.
  const pageQuery = (after: boolean, columns: string) =>
    preparedSql(
      `select k.n as batch_index, ${columns} ` +
        `from unnest($1::text[], $2::int8[], $3::text[], $4::int8[], $5::text[]) with ordinality as k(account_id, lim, after_date, after_ordinal, after_id, n) ` +
        `cross join lateral (select ${TRANSACTION_WIRE_COLUMNS.map((c) => `transactions.${c}`).join(', ')} from transactions where transactions.account_id = k.account_id and transactions.is_deleted = 0` +
        (after ? ' and (transactions.date, transactions.ordinal, transactions.id) < (k.after_date, k.after_ordinal, k.after_id)' : '') +
        ' order by transactions.date desc, transactions.ordinal desc, transactions.id desc limit k.lim) t' +
        ' order by k.n, t.date desc, t.ordinal desc, t.id desc',
    );
  type PageKey = { accountId: string; after: PagePosition | null; limit: number };
  const pageLoader = (after: boolean) => {
    const packed = pageQuery(after, `${PACKED_ROW} as packed`);
    // The same page as columns, for a page with a text that PACKED_ROW cannot carry.
    const unpacked = pageQuery(after, TRANSACTION_WIRE_COLUMNS.map((c) => `t.${c}`).join(', '));
    const parametersOf = (keys: PageKey[]) => [
      keys.map((k) => k.accountId),
      keys.map((k) => k.limit),
      keys.map((k) => k.after?.date ?? ''),
      keys.map((k) => k.after?.ordinal ?? 0),
      keys.map((k) => k.after?.id ?? ''),
    ];
    return batchLoader(async (keys: PageKey[]) => {
      const grouped = Array.from({ length: keys.length }, (): TransactionWireRow[] => []);
      const unreadable = new Set<number>();
      for (const row of await database.runPrepared<{ batch_index: number; packed: string }>(packed, parametersOf(keys))) {
        const transaction = unpackRow(row.packed);
        if (transaction === undefined) unreadable.add(row.batch_index - 1);
        else grouped[row.batch_index - 1]!.push(transaction);
      }
      if (unreadable.size > 0) {
        const again = [...unreadable];
        const rows = await database.runPrepared<TransactionWireRow & { batch_index: number }>(unpacked, parametersOf(again.map((i) => keys[i]!)));
        for (const i of again) grouped[i] = [];
        for (const { batch_index, ...row } of rows) grouped[again[batch_index - 1]!]!.push(row);
      }
      return grouped;
    });
  };
  const firstPages = pageLoader(false);
  const laterPages = pageLoader(true);
  return {
    /** A page of the GET endpoint's shape: not deleted, no other filter. */
    page: (accountId: string, after: PagePosition | null, limit: number) => (after === null ? firstPages : laterPages)({ accountId, after, limit }),
    livenessAndAccounts: batchLoader(async (grantIds: string[]) => byKey(await database.runPrepared<Row>(accountsQuery, [grantIds]), grantIds.length)),
    livenessAndAccount: batchLoader(async (keys: Array<{ grantId: string; accountId: string }>) =>
      byKey(await database.runPrepared<Row>(accountQuery, [keys.map((k) => k.grantId), keys.map((k) => k.accountId)]), keys.length).map((rows) => rows[0]),
    ),
  };
}

/**
 * PostgreSQL: a transaction's wire columns as one text, joined by \x01 (`concat_ws` writes the
 * integers as their output functions do, which `Number` reads back exactly as node-postgres'
 * parsers would). A nullable column is packed as `=` and its value, or as nothing for NULL, so
 * that NULL and '' stay apart. A bank's text may hold the separator itself: such a row splits
 * into more values than there are columns, and {@link unpackRow} says so rather than guess.
 * The order is unpackRow's.
 */
const PACKED_ROW =
  "concat_ws(E'\\x01', t.id, t.date, t.ordinal, t.text, t.original_text, t.amount_minor, t.currency, coalesce('=' || t.balance_minor, ''), " +
  "t.state, t.type, coalesce('=' || t.value_date, ''), coalesce('=' || t.counterparty_name, ''), coalesce('=' || t.category, ''), t.is_deleted, t.created_at)";
const PACKED_VALUES = TRANSACTION_WIRE_COLUMNS.length;

/** A row packed by PACKED_ROW; undefined when one of its texts held the separator. */
function unpackRow(packed: string): TransactionWireRow | undefined {
  const v = packed.split('\u0001');
  if (v.length !== PACKED_VALUES) return undefined;
  return {
    id: v[0]!,
    date: v[1]!,
    ordinal: Number(v[2]),
    text: v[3]!,
    original_text: v[4]!,
    amount_minor: Number(v[5]),
    currency: v[6]!,
    balance_minor: v[7] === '' ? null : Number(v[7]!.slice(1)),
    state: v[8]!,
    type: v[9]!,
    value_date: v[10] === '' ? null : v[10]!.slice(1),
    counterparty_name: v[11] === '' ? null : v[11]!.slice(1),
    category: v[12] === '' ? null : v[12]!.slice(1),
    is_deleted: Number(v[13]),
    created_at: Number(v[14]),
  };
}

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

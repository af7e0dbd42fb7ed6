import { sql, type Kysely } from 'kysely';
import type { DatabaseCapabilities } from '../db/database.js';
import type { ConsentRow, Database, DeletionReceiptRow } from '../db/schema.js';
import { recordEvents } from '../events/outbox.js';

export type ErasureReason = 'OneTimeRetention' | 'ConsentRevoked';

/** Rows erased per table, for the receipt (numbers only: a receipt holds no personal data). */
export type RowCounts = Record<string, number>;

/** The tables a consent's rows are erased from, in the order of the receipt's counts. */
const ERASED_TABLES = ['transactions', 'accounts', 'connections', 'refresh_tokens', 'grants', 'authorization_codes', 'flow_sessions', 'jobs', 'consents'] as const;
type ErasedTable = (typeof ERASED_TABLES)[number];
/** The tables whose rows carry their consent's id in an indexed column (all but transactions). */
type ConsentIndexedTable = Exclude<ErasedTable, 'transactions'>;

/**
 * Erases everything that belongs to one consent, in the caller's transaction: its transactions,
 * accounts, bank connection, tokens, codes, flow sessions and pending jobs, then the consent
 * itself, and leaves a deletion receipt and a `DataDeleted` event (aiia-api.md §5, Ferry's own).
 * On SQLite `secure_delete` is on (src/db/database.ts): the erased bytes are overwritten.
 */
export async function eraseConsent(trx: Kysely<Database>, capabilities: DatabaseCapabilities, consent: ConsentRow, reason: ErasureReason, now: number): Promise<DeletionReceiptRow> {
  const counts: RowCounts = {};
  for (const table of ERASED_TABLES) {
    counts[table] =
      table === 'transactions'
        ? await deleteTransactionsOf(trx, [...(await accountsOf(trx, capabilities, [consent.id])).keys()])
        : Number((await erasure(trx, table, [consent.id]).executeTakeFirst()).numDeletedRows);
  }
  const [receipt] = await recordErasures(trx, [{ consent, counts }], reason, now);
  return receipt!;
}

/**
 * Erases several consents at once, in the caller's transaction, as {@link eraseConsent} does one:
 * one DELETE per table for all of them (`consent_id IN (…)`, on the tables' consent indexes;
 * transactions through their accounts' ids, on the keyset index) rather than one per table per
 * consent, with each consent's own row counts on its receipt.
 */
export async function eraseConsents(trx: Kysely<Database>, capabilities: DatabaseCapabilities, consents: readonly ConsentRow[], reason: ErasureReason, now: number): Promise<DeletionReceiptRow[]> {
  if (consents.length === 0) return [];
  if (consents.length === 1) return [await eraseConsent(trx, capabilities, consents[0]!, reason, now)];
  const ids = consents.map((c) => c.id);
  const counts = new Map<string, RowCounts>(ids.map((id) => [id, {}]));
  for (const table of ERASED_TABLES) {
    const erased = table === 'transactions' ? await countedTransactionErasure(trx, capabilities, await accountsOf(trx, capabilities, ids)) : await countedErasure(trx, capabilities, table, ids);
    for (const [id, row] of counts) row[table] = erased.get(id) ?? 0;
  }
  return recordErasures(
    trx,
    consents.map((consent) => ({ consent, counts: counts.get(consent.id)! })),
    reason,
    now,
  );
}

/**
 * The accounts of these consents, id → consent id, before they are erased: a consent's
 * transactions are found through them (migration 016). On PostgreSQL they are locked as they are
 * read (FOR UPDATE): a sync's chunk of inserts in flight holds the account's row for its fence
 * check (src/db/database.ts `insertRows`), so the erasure waits for it and its DELETE then sees
 * the chunk's rows; a later chunk waits for the erasure and finds the account, and its fence,
 * gone. Without the lock such a chunk, committed between the erasure's DELETE of the
 * transactions and its DELETE of the accounts, outlived the erasure. (SQLite has one writer at a
 * time: nothing commits in between.) Passed on as ids, not as a subquery: given
 * `account_id IN (SELECT …)` for a batch, PostgreSQL scanned the whole table.
 */
async function accountsOf(trx: Kysely<Database>, capabilities: DatabaseCapabilities, consentIds: readonly string[]): Promise<Map<string, string>> {
  let query = trx.selectFrom('accounts').select(['id', 'consent_id']).where('consent_id', 'in', consentIds);
  if (capabilities.dialect === 'postgres') query = query.forUpdate();
  const rows = await query.execute();
  return new Map(rows.map((r) => [r.id, r.consent_id]));
}

/** Account ids a statement at a time, well under both databases' limits on parameters. */
function chunks(ids: readonly string[], size = 1000): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** Deletes the transactions of these accounts; how many went. */
async function deleteTransactionsOf(trx: Kysely<Database>, accountIds: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const chunk of chunks(accountIds)) deleted += Number((await trx.deleteFrom('transactions').where('account_id', 'in', chunk).executeTakeFirst()).numDeletedRows);
  return deleted;
}

/** Deletes the transactions of these accounts (id → consent id) and says how many went for each consent. */
async function countedTransactionErasure(trx: Kysely<Database>, capabilities: DatabaseCapabilities, accounts: ReadonlyMap<string, string>): Promise<Map<string, number>> {
  const erased = new Map<string, number>();
  const add = (accountId: string, n: number) => {
    const consentId = accounts.get(accountId)!;
    erased.set(consentId, (erased.get(consentId) ?? 0) + n);
  };
  for (const chunk of chunks([...accounts.keys()])) {
    const deletion = trx.deleteFrom('transactions').where('account_id', 'in', chunk);
    if (capabilities.dialect === 'postgres') {
      const result = await sql<{ account_id: string; n: string }>`with deleted as (${deletion.returning('account_id')}) select account_id, count(*) as n from deleted group by account_id`.execute(trx);
      for (const row of result.rows) add(row.account_id, Number(row.n));
    } else {
      const rows = await trx.selectFrom('transactions').select(['account_id', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', 'in', chunk).groupBy('account_id').execute();
      for (const row of rows) add(row.account_id, Number(row.n));
      await deletion.execute();
    }
  }
  return erased;
}

/** The DELETE of one table's rows of these consents (transactions: see {@link countedTransactionErasure}). */
function erasure(trx: Kysely<Database>, table: ConsentIndexedTable, ids: readonly string[]) {
  switch (table) {
    case 'refresh_tokens':
      return trx.deleteFrom('refresh_tokens').where('grant_id', 'in', trx.selectFrom('grants').select('id').where('consent_id', 'in', ids));
    case 'consents':
      return trx.deleteFrom('consents').where('id', 'in', ids);
    case 'jobs':
      // Pending and finished jobs of the consent go; a sync running right now finds the consent gone.
      return trx.deleteFrom('jobs').where('consent_id', 'in', ids).where('status', '!=', 'running');
    default:
      return trx.deleteFrom(table).where('consent_id', 'in', ids);
  }
}

/**
 * Deletes one table's rows of these consents and says how many went for each. PostgreSQL counts
 * the deleted rows themselves in one statement (a data-modifying CTE); SQLite, which has no such
 * CTE, counts them in the same transaction just before (one writer at a time: what it counts is
 * what it deletes).
 */
async function countedErasure(trx: Kysely<Database>, capabilities: DatabaseCapabilities, table: ConsentIndexedTable, ids: readonly string[]): Promise<Map<string, number>> {
  let rows: Array<{ consent_id: string; n: number | string | bigint }>;
  if (capabilities.dialect === 'postgres') {
    const result = await sql<{ consent_id: string; n: string }>`with deleted as (${returningErasure(trx, table, ids)}) select consent_id, count(*) as n from deleted group by consent_id`.execute(trx);
    rows = result.rows;
  } else {
    rows =
      table === 'refresh_tokens'
        ? await trx
            .selectFrom('refresh_tokens')
            .innerJoin('grants', 'grants.id', 'refresh_tokens.grant_id')
            .select(['grants.consent_id', (eb) => eb.fn.countAll<number>().as('n')])
            .where('grants.consent_id', 'in', ids)
            .groupBy('grants.consent_id')
            .execute()
        : table === 'consents'
          ? ids.map((id) => ({ consent_id: id, n: 1 }))
          : await countOf(trx, table, ids);
    await erasure(trx, table, ids).execute();
  }
  return new Map(rows.map((r) => [r.consent_id, Number(r.n)]));
}

/** PostgreSQL: the DELETE of one table's rows of these consents, returning each row's consent id. */
function returningErasure(trx: Kysely<Database>, table: ConsentIndexedTable, ids: readonly string[]) {
  switch (table) {
    case 'refresh_tokens':
      return trx.deleteFrom('refresh_tokens').using('grants').whereRef('refresh_tokens.grant_id', '=', 'grants.id').where('grants.consent_id', 'in', ids).returning('grants.consent_id');
    case 'consents':
      return trx.deleteFrom('consents').where('id', 'in', ids).returning('id as consent_id');
    case 'jobs':
      return trx.deleteFrom('jobs').where('consent_id', 'in', ids).where('status', '!=', 'running').returning('consent_id');
    default:
      return trx.deleteFrom(table as 'accounts').where('consent_id', 'in', ids).returning('consent_id');
  }
}

function countOf(trx: Kysely<Database>, table: Exclude<ConsentIndexedTable, 'refresh_tokens' | 'consents'>, ids: readonly string[]) {
  let query = trx
    .selectFrom(table as 'accounts')
    .select(['consent_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('consent_id', 'in', ids)
    .groupBy('consent_id');
  if (table === 'jobs') query = query.where(sql.ref('status'), '!=', 'running');
  return query.execute() as Promise<Array<{ consent_id: string; n: number }>>;
}

/** The receipts (one INSERT) and a `DataDeleted` event per consent (one INSERT, and one of their webhook deliveries). */
async function recordErasures(trx: Kysely<Database>, erased: ReadonlyArray<{ consent: ConsentRow; counts: RowCounts }>, reason: ErasureReason, now: number): Promise<DeletionReceiptRow[]> {
  const receipts = erased.map(
    ({ consent, counts }): DeletionReceiptRow => ({
      consent_id: consent.id,
      app_id: consent.app_id,
      one_time: consent.one_time,
      scopes: consent.scopes,
      consent_created_at: consent.created_at,
      deadline: consent.delete_at,
      erased_at: now,
      reason,
      row_counts: JSON.stringify(counts),
    }),
  );
  // 9 columns a row: 500 rows stay under both databases' limits on parameters.
  for (let i = 0; i < receipts.length; i += 500) await trx.insertInto('deletion_receipts').values(receipts.slice(i, i + 500)).execute();
  const data = { deletedAt: new Date(now).toISOString(), reason };
  await recordEvents(
    trx,
    erased.map(({ consent }) => ({ appId: consent.app_id, consentId: consent.id, event: 'DataDeleted' as const, data, now })),
  );
  return receipts;
}

/**
 * Claims up to `limit` consents whose one-time deadline has passed, locked for this transaction
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several sweepers share the work and none erases a
 * consent twice; SQLite has one writer at a time).
 */
export async function claimExpiredConsents(trx: Kysely<Database>, capabilities: DatabaseCapabilities, now: number, limit: number): Promise<ConsentRow[]> {
  let query = trx.selectFrom('consents').selectAll().where('delete_at', '<=', now).orderBy('delete_at').limit(limit);
  if (capabilities.supportsSkipLocked) query = query.forUpdate().skipLocked();
  return query.execute();
}

/** Takes the consent row's lock (PostgreSQL) so a concurrent revoke and sweep erase it once. */
export async function lockConsent(trx: Kysely<Database>, capabilities: DatabaseCapabilities, consentId: string): Promise<ConsentRow | undefined> {
  let query = trx.selectFrom('consents').selectAll().where('id', '=', consentId);
  if (capabilities.supportsSkipLocked) query = query.forUpdate();
  else await sql`update consents set status = status where id = ${consentId}`.execute(trx); // SQLite: take the write lock first
  return query.executeTakeFirst();
}

import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { randomBytes } from 'node:crypto';
import { newId } from '../crypto.js';
import { insertRows, updateRows, WriteFenceLost, type WriteFence } from '../db/database.js';
import type { AccountRow, ConsentRow, Database } from '../db/schema.js';
import { recordEvent } from '../events/outbox.js';
import { enqueueJob } from '../jobs/queue.js';
import { ConnectionExpiredError, RateLimitedError } from '../providers/errors.js';
import type { BankAccount, BankProvider, BankTransaction, ProviderConnection } from '../providers/types.js';

export const SYNC_JOB = 'sync';
/** aiia-api.md §4: persistent consents resync every 6 hours. */
export const RESYNC_INTERVAL_MS = 6 * 3600_000;
/** The first sync fetches up to two years of history; later ones the recent window where banks change things. */
export const HISTORY_DAYS = 730;
export const RESYNC_WINDOW_DAYS = 90;
/** Rows to one `is_deleted` UPDATE (its ids are parameters). */
const WRITE_CHUNK = 500;

export interface ProviderLookup {
  get(id: string): BankProvider | undefined;
}

export interface SyncDeps {
  db: Kysely<Database>;
  clock: Clock;
  providers: ProviderLookup;
}

/**
 * The `onConsentCreated` hook of the hosted flow: in the consent's own transaction, stores the bank
 * connection and the accounts the user chose, and queues the first sync.
 */
export async function storeConsentData(
  trx: Kysely<Database>,
  created: { consent: ConsentRow; connection: ProviderConnection; accounts: BankAccount[]; bankAccountCount?: number; now: number },
): Promise<void> {
  const { consent, connection, accounts, now } = created;
  await trx
    .insertInto('connections')
    .values({
      consent_id: consent.id,
      provider_id: connection.providerId,
      connection: JSON.stringify(connection),
      created_at: now,
      last_login_at: connection.createdAt,
      bank_account_count: created.bankAccountCount ?? accounts.length,
    })
    .execute();
  if (accounts.length > 0) await trx.insertInto('accounts').values(newAccountRows(consent, connection, accounts, 0, now)).execute();
  await queueSync(trx, consent.id, now, now);
}

/** Account rows for accounts the user shares, numbered from `firstPosition`, waiting for their first sync. */
function newAccountRows(consent: ConsentRow, connection: ProviderConnection, accounts: BankAccount[], firstPosition: number, now: number) {
  return accounts.map((account, i) => ({
    id: newId(),
    consent_id: consent.id,
    provider_account_id: account.id,
    provider_id: connection.providerId,
    position: firstPosition + i,
    ...accountColumns(account),
    sync_status: 'Syncing',
    last_synchronized: null,
    is_orphaned: 0,
    group_id: consent.group_id,
    group_name: consent.group_name,
    created_at: now,
    updated_at: now,
  }));
}

/**
 * The `onConsentReconnected` hook of the hosted flow (a supervised update): the consent's bank
 * connection is replaced by the new login's, the bank may be read without the user again
 * (`needs_login` and any pause cleared), accounts the user shares now and did not before are
 * added, and a sync is queued at once. Accounts shared before stay; the sync marks any the bank no
 * longer shows as orphaned.
 */
export async function storeReconnectedData(
  trx: Kysely<Database>,
  reconnected: { consent: ConsentRow; connection: ProviderConnection; accounts: BankAccount[]; now: number },
): Promise<void> {
  const { consent, connection, accounts, now } = reconnected;
  await trx
    .updateTable('connections')
    .set({ connection: JSON.stringify(connection), last_login_at: connection.createdAt, needs_login: 0, rate_limited_until: null, bank_account_count: accounts.length })
    .where('consent_id', '=', consent.id)
    .execute();
  const known = new Set((await trx.selectFrom('accounts').select('provider_account_id').where('consent_id', '=', consent.id).execute()).map((a) => a.provider_account_id));
  const position = Number((await trx.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).where('consent_id', '=', consent.id).executeTakeFirst())?.n ?? 0);
  const added = accounts.filter((a) => !known.has(a.id));
  if (added.length > 0) await trx.insertInto('accounts').values(newAccountRows(consent, connection, added, position, now)).execute();
  await queueSync(trx, consent.id, now, now);
}

/** Queues a sync at `runAt`; a sync already pending for later (the 6-hourly one) is brought forward instead. */
export async function queueSync(db: Kysely<Database>, consentId: string, runAt: number, now: number): Promise<void> {
  const dedupeKey = `sync:${consentId}`;
  // 'pending' as a literal: the planner then uses the partial index jobs_pending_dedupe (a bound
  // parameter cannot match its WHERE) instead of walking every pending job through jobs_due.
  await db.updateTable('jobs').set({ run_at: runAt }).where('dedupe_key', '=', dedupeKey).where('status', '=', sql.lit('pending')).where('run_at', '>', runAt).execute();
  await enqueueJob(db, { kind: SYNC_JOB, payload: { consentId }, runAt, dedupeKey, consentId, now });
}

function accountColumns(account: BankAccount) {
  return {
    name: account.name,
    owner: account.owner,
    type: account.type,
    currency: account.currency,
    booked_minor: account.booked?.minor ?? null,
    available_minor: account.available?.minor ?? null,
    bban: account.bban,
    bban_bank_code: account.bbanParsed?.bankCode ?? null,
    bban_account_number: account.bbanParsed?.accountNumber ?? null,
    bban_type: account.bbanType,
    iban: account.iban,
    card: account.card,
  };
}

export interface AccountSyncReport {
  accountId: string;
  inserted: number;
  updated: number;
  deleted: number;
  oldestChangedDate: string | null;
  orphaned: boolean;
}

export type SyncReport =
  | { status: 'skipped'; reason: string }
  | { status: 'done'; firstSync: boolean; accounts: AccountSyncReport[]; stored: number };

/**
 * Syncs one consent: refreshes its accounts' balances and stores their transactions, matching what
 * is already there so that a resync updates in place (aiia-api.md §4; issue #5):
 * - a booked transaction that was pending becomes that row (same Ferry id), never a duplicate;
 * - a transaction the bank no longer returns within the fetched window is marked `isDeleted`;
 * - identical genuine transactions keep their own bank ids, and so stay two.
 * Records `SyncDone` (and `AccountsUpdated` when a resync changed anything) in the outbox.
 */
export async function syncConsent(deps: SyncDeps, consentId: string): Promise<SyncReport> {
  const { db, clock } = deps;
  const now = clock.now();
  const consent = await db.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirst();
  if (consent === undefined || consent.status !== 'Active' || (consent.delete_at !== null && consent.delete_at <= now)) {
    return { status: 'skipped', reason: 'consent is not active' };
  }
  const connectionRow = await db.selectFrom('connections').selectAll().where('consent_id', '=', consentId).executeTakeFirst();
  if (connectionRow === undefined) return { status: 'skipped', reason: 'no bank connection' };
  if (connectionRow.needs_login === 1) return { status: 'skipped', reason: 'the bank needs a new login' };
  const provider = deps.providers.get(connectionRow.provider_id);
  if (provider === undefined) throw new Error(`provider ${connectionRow.provider_id} is not registered`);
  const connection = JSON.parse(connectionRow.connection) as ProviderConnection;
  // A background read: never one of the reads the bank grants while the user is present.
  const ctx = { now: () => clock.now(), userPresent: false };
  const limits = provider.accessLimits?.(connection);

  const accounts = await db.selectFrom('accounts').selectAll().where('consent_id', '=', consentId).orderBy('position').execute();
  const firstSync = accounts.every((a) => a.last_synchronized === null);
  const today = isoDate(now);
  const reports: AccountSyncReport[] = [];
  let stored = 0;

  try {
    if (limits?.expiresAt != null && now >= limits.expiresAt) throw new ConnectionExpiredError('the consent at the bank has ended', 'Expired');
    const bankAccounts = new Map((await provider.listAccounts(connection, ctx)).map((a) => [a.id, a]));
    for (const account of accounts) {
      const bankAccount = bankAccounts.get(account.provider_account_id);
      if (bankAccount === undefined) {
        if (account.is_orphaned === 0) await db.updateTable('accounts').set({ is_orphaned: 1, updated_at: now }).where('id', '=', account.id).execute();
        reports.push({ accountId: account.id, inserted: 0, updated: 0, deleted: 0, oldestChangedDate: null, orphaned: true });
        continue;
      }
      const from = isoDate(now - (account.last_synchronized === null ? HISTORY_DAYS : RESYNC_WINDOW_DAYS) * 86_400_000);
      // This sync's token first, then what is stored: a sync that started earlier writes no new
      // rows from here on, and one that started later will read what this one stores.
      const fence = await takeSyncFence(db, account.id);
      const existing = await storedTransactions(db, account.id);
      const transactions = await provider.fetchTransactions(connection, account.provider_account_id, { from, to: today }, ctx);
      const report = await storeTransactions(db, account, existing, transactions, { from, to: today }, clock.now(), fence);
      stored += report.inserted + report.updated;
      await db
        .updateTable('accounts')
        .set({ ...accountColumns(bankAccount), is_orphaned: 0, sync_status: 'Finished', last_synchronized: clock.now(), updated_at: clock.now() })
        .where('id', '=', account.id)
        .execute();
      reports.push({ ...report, orphaned: false });
    }
  } catch (error) {
    // A later sync of this consent took the account over (see takeSyncFence): it finishes the work.
    // Or the account is gone: the consent was erased while this sync read the bank (below).
    if (error instanceof WriteFenceLost && (await consentExists(db, consentId))) return { status: 'skipped', reason: 'a later sync of this consent took over' };
    if (error instanceof WriteFenceLost) return leaveNothingBehind(db, consentId, accounts);
    if (error instanceof RateLimitedError) return pauseForRateLimit(db, consent, accounts, error, now);
    if (error instanceof ConnectionExpiredError) return requireNewLogin(db, consent, accounts, error, limits?.expiresAt ?? null, now);
    throw error; // the bank is unavailable or answered nonsense: the job retries with backoff
  }
  // Erased while this sync read the bank (revoked, or past its deadline)? Leave nothing behind.
  if (!(await consentExists(db, consentId))) return leaveNothingBehind(db, consentId, accounts);

  const finishedAt = clock.now();
  await db.transaction().execute(async (trx) => {
    const base = { appId: consent.app_id, consentId, now: finishedAt };
    await recordEvent(trx, { ...base, event: 'SyncDone', data: { syncedAccountIds: reports.filter((r) => !r.orphaned).map((r) => r.accountId) } });
    const changed = reports.filter((r) => !r.orphaned && r.inserted + r.updated + r.deleted > 0);
    if (!firstSync && changed.length > 0) {
      await recordEvent(trx, {
        ...base,
        event: 'AccountsUpdated',
        data: {
          changedAccounts: changed.map((r) => ({
            accountId: r.accountId,
            transactionsChanged: r.inserted + r.updated + r.deleted,
            oldestTransactionChangedAt: r.oldestChangedDate === null ? null : `${r.oldestChangedDate}T00:00:00Z`,
          })),
        },
      });
    }
    const orphaned = reports.filter((r) => r.orphaned).map((r) => r.accountId);
    const newlyOrphaned = orphaned.filter((id) => accounts.find((a) => a.id === id)?.is_orphaned === 0);
    if (newlyOrphaned.length > 0) await recordEvent(trx, { ...base, event: 'AccountsOrphaned', data: { accountIds: newlyOrphaned } });
    if (consent.one_time === 0) await queueSync(trx, consentId, finishedAt + resyncInterval(limits?.unattendedReadsPerDay ?? null), finishedAt);
    await trx.updateTable('connections').set({ rate_limited_until: null }).where('consent_id', '=', consentId).execute();
  });
  return { status: 'done', firstSync, accounts: reports, stored };
}

/** Every 6 hours, or less often when the bank allows fewer reads a day without the user (PSD2: 4). */
export function resyncInterval(unattendedReadsPerDay: number | null): number {
  if (unattendedReadsPerDay === null || unattendedReadsPerDay <= 0) return RESYNC_INTERVAL_MS;
  return Math.max(RESYNC_INTERVAL_MS, Math.ceil(86_400_000 / unattendedReadsPerDay));
}

/** The bank said 429, or the day's reads are spent: tell the app, and try again when the bank allows. */
async function pauseForRateLimit(db: Kysely<Database>, consent: ConsentRow, accounts: AccountRow[], error: RateLimitedError, now: number): Promise<SyncReport> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('connections').set({ rate_limited_until: error.retryAt }).where('consent_id', '=', consent.id).execute();
    await recordEvent(trx, {
      appId: consent.app_id,
      consentId: consent.id,
      event: 'ConnectionRateLimited',
      data: { accountIds: accounts.map((a) => a.id), rateLimitedUntil: new Date(error.retryAt).toISOString() },
      now,
    });
    await queueSync(trx, consent.id, Math.max(error.retryAt, now + 1000), now);
  });
  return { status: 'skipped', reason: `rate limited by the ${error.source} until ${new Date(error.retryAt).toISOString()}` };
}

/** Only a new login at the bank helps: tell the app, stop resyncing, and make /v1/update ask for the user. */
async function requireNewLogin(
  db: Kysely<Database>,
  consent: ConsentRow,
  accounts: AccountRow[],
  error: ConnectionExpiredError,
  expiresAt: number | null,
  now: number,
): Promise<SyncReport> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('connections').set({ needs_login: 1 }).where('consent_id', '=', consent.id).execute();
    await trx.updateTable('accounts').set({ sync_status: 'Failed', updated_at: now }).where('consent_id', '=', consent.id).where('sync_status', '=', 'Syncing').execute();
    const base = { appId: consent.app_id, consentId: consent.id, now };
    await recordEvent(trx, {
      ...base,
      event: 'ConnectionUpdateRequired',
      data: { accountIds: accounts.map((a) => a.id), expiresAt: new Date(expiresAt ?? now).toISOString(), reason: error.reason },
    });
    await recordEvent(trx, { ...base, event: 'ConsentNeedsUpdate', data: { reason: error.reason } });
  });
  return { status: 'skipped', reason: `the bank needs a new login (${error.reason})` };
}

interface ExistingTransaction {
  id: string;
  provider_transaction_id: string;
  date: string;
  state: string;
  amount_minor: number;
  balance_minor: number | null;
  text: string;
  original_text: string;
  value_date: string | null;
  counterparty_name: string | null;
  is_deleted: number;
}

/**
 * The consent was erased while this sync ran: whatever it wrote after the erasure read goes too.
 * The accounts it wrote to are all it could have left rows under (transactions are found through
 * their accounts, migration 016).
 */
async function leaveNothingBehind(db: Kysely<Database>, consentId: string, accounts: readonly AccountRow[]): Promise<SyncReport> {
  if (accounts.length > 0) await db.deleteFrom('transactions').where('account_id', 'in', accounts.map((a) => a.id)).execute();
  await db.deleteFrom('accounts').where('consent_id', '=', consentId).execute();
  return { status: 'skipped', reason: 'consent erased during the sync' };
}

async function consentExists(db: Kysely<Database>, consentId: string): Promise<boolean> {
  return (await db.selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst()) !== undefined;
}

/**
 * A fencing token for this sync's writes to the account's transactions: the account's
 * `sync_fence`, moved on by one. Two syncs of one account can overlap (a job's lease that ran out
 * while its sync still ran; `POST /v1/update` during one); each inserts what it did not find
 * stored, so both would insert the same bank transactions. The later one moves the token on
 * before it reads what is stored, and the earlier one's inserts then fail (WriteFenceLost) instead
 * of adding a second copy; see WriteFence (src/db/database.ts) for why a chunk in flight is safe.
 */
async function takeSyncFence(db: Kysely<Database>, accountId: string): Promise<WriteFence> {
  const row = await db
    .updateTable('accounts')
    .set((eb) => ({ sync_fence: eb('sync_fence', '+', 1) }))
    .where('id', '=', accountId)
    .returning('sync_fence')
    .executeTakeFirstOrThrow();
  return { table: 'accounts', column: 'sync_fence', id: accountId, value: Number(row.sync_fence) };
}

/** What a sync matches the bank's answer against: every stored transaction of the account, and the highest ordinal. */
async function storedTransactions(db: Kysely<Database>, accountId: string): Promise<{ rows: ExistingTransaction[]; maxOrdinal: number }> {
  const rows = await db
    .selectFrom('transactions')
    .select(['id', 'provider_transaction_id', 'date', 'state', 'amount_minor', 'balance_minor', 'text', 'original_text', 'value_date', 'counterparty_name', 'is_deleted'])
    .where('account_id', '=', accountId)
    .execute();
  const maxOrdinal = rows.length === 0 ? 0 : ((await db.selectFrom('transactions').select((eb) => eb.fn.max('ordinal').as('m')).where('account_id', '=', accountId).executeTakeFirst())?.m ?? 0);
  return { rows, maxOrdinal: Number(maxOrdinal) };
}

async function storeTransactions(
  db: Kysely<Database>,
  account: AccountRow,
  stored: { rows: ExistingTransaction[]; maxOrdinal: number },
  transactions: BankTransaction[],
  range: { from: string; to: string },
  now: number,
  fence: WriteFence,
): Promise<Omit<AccountSyncReport, 'orphaned'>> {
  const { rows: existing, maxOrdinal } = stored;
  const byBankId = new Map<string, ExistingTransaction>(existing.map((t) => [t.provider_transaction_id, t]));

  const seen = new Set<string>();
  // A bank that lists one id twice gets it stored once.
  const listed = new Set<string>();
  const inserts: Database['transactions'][] = [];
  const updates: Array<{ id: string; tx: BankTransaction }> = [];
  let oldestChangedDate: string | null = null;
  const changedOn = (date: string) => {
    if (oldestChangedDate === null || date < oldestChangedDate) oldestChangedDate = date;
  };

  // The bank lists newest first; new rows get ordinals above every stored one, newest highest.
  transactions.forEach((tx, index) => {
    if (listed.has(tx.id)) return;
    listed.add(tx.id);
    const match = byBankId.get(tx.id) ?? (tx.pendingId !== undefined ? byBankId.get(tx.pendingId) : undefined);
    if (match !== undefined && !seen.has(match.id)) {
      seen.add(match.id);
      if (differs(match, tx)) {
        updates.push({ id: match.id, tx });
        changedOn(tx.date < match.date ? tx.date : match.date);
      }
      return;
    }
    inserts.push(newTransactionRow(account, tx, maxOrdinal + transactions.length - index, now));
    changedOn(tx.date);
  });

  // Oldest first: each row then lands at the end of the keyset index, where SQLite
  // appends to the last page rather than splitting one in the middle (~15 % faster); and its id,
  // time-ordered and given in this order, at the end of the primary key's index.
  inserts.reverse();
  for (const row of inserts) row.id = transactionIds.next(now);
  await insertRows(db, 'transactions', inserts, fence);
  await updateRows(
    db,
    'transactions',
    'id',
    updates.map(({ id, tx }) => ({ id, provider_transaction_id: tx.id, date: tx.date, ...transactionColumns(tx), is_deleted: 0, updated_at: now })),
  );
  // Within the window the bank answered for, what it no longer lists is gone at the bank.
  const removed = existing.filter((t) => !seen.has(t.id) && t.is_deleted === 0 && t.date >= range.from && t.date <= range.to);
  for (let i = 0; i < removed.length; i += WRITE_CHUNK) {
    const chunk = removed.slice(i, i + WRITE_CHUNK);
    await db.updateTable('transactions').set({ is_deleted: 1, updated_at: now }).where('id', 'in', chunk.map((t) => t.id)).execute();
    for (const t of chunk) changedOn(t.date);
  }
  return { accountId: account.id, inserted: inserts.length, updated: updates.length, deleted: removed.length, oldestChangedDate };
}

function newTransactionRow(account: AccountRow, tx: BankTransaction, ordinal: number, now: number): Database['transactions'] {
  // One object literal, no spread: a long history is tens of thousands of these.
  return {
    id: '', // given in insertion order (storeTransactions)
    account_id: account.id,
    consent_id: account.consent_id,
    provider_transaction_id: tx.id,
    date: tx.date,
    ordinal,
    value_date: tx.valueDate,
    text: tx.text,
    original_text: tx.originalText,
    amount_minor: tx.amount.minor,
    currency: tx.amount.currency,
    balance_minor: tx.balance?.minor ?? null,
    state: tx.state,
    type: tx.type,
    counterparty_name: tx.counterpartyName,
    category: tx.category,
    is_deleted: 0,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Transaction ids: UUIDs of version 7 (RFC 9562 §5.7), a millisecond timestamp, then a counter
 * (method 1 of §6.2: 26 bits, 12 in rand_a and 14 at the top of rand_b), then 48 random bits. Ids
 * given one after another sort one after another, so a sync's rows land at the end of the primary
 * key's index instead of at random places all over it: a random UUID dirties a different index
 * page for nearly every row, and each of those pages is written to the WAL again at every commit
 * (about a third of a first sync's time on SQLite). Opaque to clients like any UUID; the time they
 * carry is the row's `creationDate`, which the API shows anyway.
 */
export class TimeOrderedIds {
  private lastMs = -1;
  private counter = 0;
  private random = Buffer.alloc(0);
  private randomAt = 0;

  next(now: number): string {
    let ms = Math.max(Math.floor(now), this.lastMs);
    if (ms === this.lastMs) {
      this.counter++;
      // 2^26 ids in one millisecond: borrow the next one, as §6.2 allows.
      if (this.counter >= 0x4000000) {
        ms++;
        this.counter = 0;
      }
    } else this.counter = 0;
    this.lastMs = ms;
    if (this.randomAt + 6 > this.random.length) {
      this.random = randomBytes(6 * 1024);
      this.randomAt = 0;
    }
    const r = this.random.toString('hex', this.randomAt, this.randomAt + 6);
    this.randomAt += 6;
    const time = ms.toString(16).padStart(12, '0');
    const high = this.counter >>> 14; // 12 bits: rand_a
    const low = this.counter & 0x3fff; // 14 bits: the top of rand_b, after the variant bits 10
    return `${time.slice(0, 8)}-${time.slice(8, 12)}-${(0x7000 | high).toString(16)}-${(0x8000 | low).toString(16)}-${r}`;
  }
}

const transactionIds = new TimeOrderedIds();

function transactionColumns(tx: BankTransaction) {
  return {
    value_date: tx.valueDate,
    text: tx.text,
    original_text: tx.originalText,
    amount_minor: tx.amount.minor,
    currency: tx.amount.currency,
    balance_minor: tx.balance?.minor ?? null,
    state: tx.state,
    type: tx.type,
    counterparty_name: tx.counterpartyName,
    category: tx.category,
  };
}

function differs(row: ExistingTransaction, tx: BankTransaction): boolean {
  return (
    row.is_deleted !== 0 ||
    row.provider_transaction_id !== tx.id ||
    row.date !== tx.date ||
    row.state !== tx.state ||
    Number(row.amount_minor) !== tx.amount.minor ||
    (row.balance_minor === null ? null : Number(row.balance_minor)) !== (tx.balance?.minor ?? null) ||
    row.text !== tx.text ||
    row.original_text !== tx.originalText ||
    row.value_date !== tx.valueDate ||
    row.counterparty_name !== tx.counterpartyName
  );
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

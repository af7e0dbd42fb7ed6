/**
 * Seeds a Ferry database for the retention benchmark: a few one-time consents made the way the
 * hosted flow makes them (sandbox bank login, flow session, code exchange, first sync; see
 * bench/data/setup.ts), whose rows in every table are then the templates of many more consents,
 * cloned with fresh ids and written with the bulk-write helpers (src/db/database.ts `insertRows`):
 * the sandbox bank's own row sizes, texts and shapes, at a million transactions a minute.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { systemClock } from '../../src/clock.js';
import { eraseConsent } from '../../src/consents/erase.js';
import { TimeOrderedIds } from '../../src/data/sync.js';
import { insertRows } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { connectConsent, runJobs, type BenchServer } from '../data/setup.js';

type Row = Record<string, unknown>;

/** The tables that hold a consent's rows, by how a row finds its consent. */
interface Template {
  consent: Row;
  connections: Row[];
  accounts: Row[];
  /** Newest first. */
  transactions: Row[];
  grants: Row[];
  refreshTokens: Row[];
  authorizationCodes: Row[];
  flowSessions: Row[];
  jobs: Row[];
  events: Row[];
}

export interface SeedReport {
  consents: number;
  transactions: number;
  /** Rows written per table. */
  rows: Record<string, number>;
  /** Transactions of the template users (what the sandbox bank gave them), for the record. */
  templateTransactions: number[];
  seconds: number;
}

const TEMPLATE_USERS = ['retention-a', 'retention-b', 'retention-c', 'retention-d'];

/**
 * Connects the template users as one-time consents (scope `accounts`), syncs them, reads their
 * rows, and erases them again: only the clones stay. The returned templates hold the rows as read.
 */
export async function makeTemplates(server: BenchServer): Promise<Template[]> {
  const db = server.services.database.db;
  const ids: string[] = [];
  for (const user of TEMPLATE_USERS) ids.push((await connectConsent(server, user, 'accounts')).consentId);
  await runJobs(server);
  const templates: Template[] = [];
  for (const id of ids) {
    const consent = (await db.selectFrom('consents').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as ConsentLike;
    const grants = await db.selectFrom('grants').selectAll().where('consent_id', '=', id).execute();
    const grantIds = grants.map((g) => g.id);
    templates.push({
      consent,
      connections: await db.selectFrom('connections').selectAll().where('consent_id', '=', id).execute(),
      accounts: await db.selectFrom('accounts').selectAll().where('consent_id', '=', id).execute(),
      transactions: await db.selectFrom('transactions').selectAll().where('consent_id', '=', id).orderBy('date', 'desc').orderBy('ordinal', 'desc').execute(),
      grants,
      refreshTokens: grantIds.length === 0 ? [] : await db.selectFrom('refresh_tokens').selectAll().where('grant_id', 'in', grantIds).execute(),
      authorizationCodes: await db.selectFrom('authorization_codes').selectAll().where('consent_id', '=', id).execute(),
      flowSessions: await db.selectFrom('flow_sessions').selectAll().where('consent_id', '=', id).execute(),
      jobs: await db.selectFrom('jobs').selectAll().where('consent_id', '=', id).execute(),
      events: await db.selectFrom('events').selectAll().where('consent_id', '=', id).execute(),
    });
    await db.transaction().execute(async (trx) => eraseConsent(trx, server.services.database.capabilities, consent as never, 'ConsentRevoked', systemClock.now()));
  }
  // The templates' receipts and events are not the benchmark's.
  await db.deleteFrom('deletion_receipts').where('consent_id', 'in', ids).execute();
  await db.deleteFrom('events').where('consent_id', 'in', ids).execute();
  return templates;
}

type ConsentLike = Row & { id: string };

/**
 * Personal values every clone of a template carries and nothing else does: the bank connection's
 * user reference and the accounts' IBANs (for the scan of the SQLite file after the sweep).
 */
export function personalValues(templates: Template[]): string[] {
  const values = new Set<string>();
  for (const t of templates) {
    for (const c of t.connections) values.add(String((JSON.parse(String(c.connection)) as { reference: string }).reference));
    for (const a of t.accounts) if (typeof a.iban === 'string' && a.iban.length > 0) values.add(a.iban);
  }
  return [...values];
}

/**
 * Writes `consents` one-time consents holding `transactions` transactions in all (as evenly as
 * the count allows, each the newest of its template's), each with its connection, accounts,
 * grant, refresh tokens, code, flow session, jobs and events, deadline `deleteAt`.
 */
export async function seedConsents(db: Kysely<Database>, templates: Template[], consents: number, transactions: number, deleteAt: number, idOrder: IdOrder = 'ferry'): Promise<SeedReport> {
  const ids = new TimeOrderedIds();
  const newTransactionId = idOrder === 'random' ? randomUUID : () => ids.next(Date.now());
  const started = performance.now();
  const rows: Record<string, number> = {};
  const CHUNK = 500;
  for (let first = 0; first < consents; first += CHUNK) {
    const batch: Record<string, Row[]> = {
      consents: [],
      connections: [],
      accounts: [],
      transactions: [],
      grants: [],
      refresh_tokens: [],
      authorization_codes: [],
      flow_sessions: [],
      jobs: [],
      events: [],
    };
    for (let i = first; i < Math.min(consents, first + CHUNK); i++) {
      const count = Math.floor(transactions / consents) + (i < transactions % consents ? 1 : 0);
      cloneConsent(templates[i % templates.length]!, count, deleteAt, batch, newTransactionId);
    }
    // Parents first, as the flow writes them.
    for (const table of ['consents', 'connections', 'accounts', 'grants', 'refresh_tokens', 'authorization_codes', 'flow_sessions', 'jobs', 'events', 'transactions'] as const) {
      await insertRows(db, table, batch[table] as never);
      rows[table] = (rows[table] ?? 0) + batch[table]!.length;
    }
  }
  return { consents, transactions: rows.transactions ?? 0, rows, templateTransactions: templates.map((t) => t.transactions.length), seconds: (performance.now() - started) / 1000 };
}

function cloneConsent(template: Template, transactions: number, deleteAt: number, out: Record<string, Row[]>, newTransactionId: () => string): void {
  const consentId = randomUUID();
  const ids = new Map<string, string>([[String(template.consent.id), consentId]]);
  for (const a of template.accounts) ids.set(String(a.id), randomUUID());
  for (const g of template.grants) ids.set(String(g.id), randomUUID());
  /** A row's text with every id of the template replaced by the clone's (events' data, job payloads). */
  const rewrite = (value: unknown) => {
    if (typeof value !== 'string') return value;
    let text = value;
    for (const [from, to] of ids) text = text.split(from).join(to);
    return text;
  };
  const rewriteRow = (row: Row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, rewrite(v)]));
  out.consents!.push({ ...template.consent, id: consentId, user_id: randomUUID(), delete_at: deleteAt });
  for (const c of template.connections) out.connections!.push({ ...c, consent_id: consentId });
  for (const a of template.accounts) out.accounts!.push({ ...a, id: ids.get(String(a.id)), consent_id: consentId });
  for (const g of template.grants) out.grants!.push({ ...g, id: ids.get(String(g.id)), consent_id: consentId, expires_at: deleteAt });
  for (const r of template.refreshTokens) out.refresh_tokens!.push({ ...r, hash: randomBytes(32).toString('base64url'), grant_id: ids.get(String(r.grant_id)), expires_at: deleteAt });
  for (const c of template.authorizationCodes) out.authorization_codes!.push({ ...rewriteRow(c), hash: randomBytes(32).toString('base64url'), expires_at: deleteAt });
  for (const f of template.flowSessions) out.flow_sessions!.push({ ...rewriteRow(f), id: randomBytes(32).toString('base64url'), expires_at: deleteAt });
  for (const j of template.jobs) out.jobs!.push({ ...rewriteRow(j), id: randomUUID() });
  for (const e of template.events) out.events!.push({ ...rewriteRow(e), id: randomUUID() });
  const source = template.transactions;
  for (let i = 0; i < transactions; i++) {
    // More than the template has: the same rows again, as a longer history would hold.
    const t = source[i % source.length]!;
    const round = Math.floor(i / source.length);
    out.transactions!.push({
      ...t,
      id: newTransactionId(),
      account_id: ids.get(String(t.account_id)),
      consent_id: consentId,
      provider_transaction_id: round === 0 ? t.provider_transaction_id : `${String(t.provider_transaction_id)}~${round}`,
    });
  }
}

/**
 * How the seeded transactions' ids are made: `ferry` as Ferry makes them (src/data/sync.ts
 * `TimeOrderedIds`: UUIDs of version 7, in the order the rows are written), or `random`, an
 * experiment: random UUIDs, as Ferry made them before, which put each row's entry in the id index
 * on a random page.
 */
export type IdOrder = 'ferry' | 'random';

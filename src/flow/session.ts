import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { createConsent } from '../consents/consents.js';
import { randomToken, sha256 } from '../crypto.js';
import { preparedFor, transact, type QueryParam } from '../db/database.js';
import type { ConsentRow, Database, FlowSessionRow } from '../db/schema.js';
import { buildAuthorizationRedirect } from '../oauth/authorization-response.js';
import { mintAuthorizationCode } from '../oauth/codes.js';
import { isOneTime, parseScopeList } from '../oauth/scopes.js';
import type { BankAccount, ProviderConnection } from '../providers/types.js';

/** A flow session expires after 30 minutes without activity (issue #4). */
export const FLOW_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** The connect parameters beyond client, redirect, scope and state (aiia-api.md §1). */
export interface ConnectParams {
  culture: string | null;
  providerId: string | null;
  email: string | null;
  consentId: string | null;
  selectAllAccounts: boolean;
  accountsGroupId: string | null;
  accountsGroupName: string | null;
  bankAccountNumbers: string[];
  /**
   * Set by `POST /v1/update` when the bank needs the user to log in again: the flow renews this
   * consent's bank connection instead of creating a consent (src/flow/session.ts `reconnectFlowConsent`).
   */
  reconnectConsentId?: string | null;
}

export interface NewFlowSession {
  appId: string;
  redirectUri: string;
  state: string | null;
  scopes: string;
  codeChallenge: string | null;
  params: ConnectParams;
}

export interface FlowDeps {
  db: Kysely<Database>;
  clock: Clock;
  /** The `iss` value (RFC 9207): Ferry's public URL. */
  issuer: string;
  oneTimeRetentionMs: number;
  /** Stores the consent's connection and accounts and queues its sync (the data layer), in the consent's transaction. */
  /** Told when a flow returns to the app with a code (metrics). */
  onFlowCompleted?: () => void;
  onConsentCreated?: (
    trx: Kysely<Database>,
    created: { consent: ConsentRow; connection: ProviderConnection; accounts: BankAccount[]; now: number },
  ) => Promise<void>;
  /** Stores a renewed bank connection (and any newly shared accounts) of an existing consent and queues its sync, in the flow's transaction. */
  onConsentReconnected?: (
    trx: Kysely<Database>,
    reconnected: { consent: ConsentRow; connection: ProviderConnection; accounts: BankAccount[]; now: number },
  ) => Promise<void>;
}

/** Creates the database row of a hosted flow; the returned handle goes in the hosted-flow URL. */
export async function createFlowSession(db: Kysely<Database>, clock: Clock, input: NewFlowSession): Promise<{ handle: string; id: string }> {
  const handle = randomToken(32);
  const id = sha256(handle);
  const now = clock.now();
  const row = {
    id,
    app_id: input.appId,
    redirect_uri: input.redirectUri,
    state: input.state,
    scopes: input.scopes,
    params: JSON.stringify(input.params),
    code_challenge: input.codeChallenge,
    browser_hash: null,
    step: 'consent',
    data: '{}',
    consent_id: null,
    created_at: now,
    updated_at: now,
    expires_at: now + FLOW_IDLE_TIMEOUT_MS,
  };
  type Row = typeof row;
  const build = (kysely: Kysely<Database>, p: QueryParam<Row>) =>
    kysely.insertInto('flow_sessions').values(Object.fromEntries(Object.keys(row).map((column) => [column, p(column as keyof Row)])) as Row);
  // One per connect request: compiled once, and on SQLite in the group commit (src/db/database.ts).
  const prepared = preparedFor(db, 'createFlowSession', build);
  if (prepared !== undefined) await prepared.write(row);
  else await db.insertInto('flow_sessions').values(row).execute();
  return { handle, id };
}

export function flowSessionIdFromHandle(handle: string): string {
  return sha256(handle);
}

export async function findFlowSession(db: Kysely<Database>, id: string, now: number): Promise<FlowSessionRow | undefined> {
  return db.selectFrom('flow_sessions').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
}

export function flowParams(flow: FlowSessionRow): ConnectParams {
  return JSON.parse(flow.params) as ConnectParams;
}

/**
 * Reads the flow row for step 4's write, by writing to it: the write takes the row lock
 * (PostgreSQL) or the write lock (SQLite), so a double-posted form waits here and then finds the
 * consent the first one created or renewed (RETURNING gives the row as it is once the lock is
 * held: one round trip, not an update and then a select; issue 8).
 */
async function lockFlowRow(trx: Kysely<Database>, flowId: string, now: number): Promise<FlowSessionRow> {
  return trx.updateTable('flow_sessions').set({ updated_at: now }).where('id', '=', flowId).returningAll().executeTakeFirstOrThrow();
}

/**
 * Step 4 (accounts confirmed): creates the flow's consent, once. The consent's data (the bank
 * connection and the chosen accounts) is stored with it, and its first sync is queued, by the data
 * layer in the same transaction. Returns the consent id; a second call returns the same id.
 */
export async function createFlowConsent(
  deps: FlowDeps,
  flowId: string,
  input: { providerId: string; connection: ProviderConnection; accounts: BankAccount[]; userId?: string },
): Promise<string> {
  const { db, clock } = deps;
  const now = clock.now();
  return transact(db, async (trx) => {
    const flow = await lockFlowRow(trx, flowId, now);
    if (flow.consent_id !== null) return flow.consent_id;
    const params = flowParams(flow);
    const consent = await createConsent(trx, {
      appId: flow.app_id,
      ...(input.userId !== undefined ? { userId: input.userId } : {}),
      scopes: flow.scopes,
      oneTime: isOneTime(parseScopeList(flow.scopes)),
      providerId: input.providerId,
      groupId: params.accountsGroupId,
      groupName: params.accountsGroupName,
      now,
      retentionMs: deps.oneTimeRetentionMs,
    });
    await deps.onConsentCreated?.(trx, { consent, connection: input.connection, accounts: input.accounts, now });
    const updated = await trx
      .updateTable('flow_sessions')
      .set({ consent_id: consent.id, updated_at: now })
      .where('id', '=', flowId)
      .where('consent_id', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new Error('flow consent created twice');
    return consent.id;
  });
}

/**
 * Step 4 of a supervised update (`POST /v1/update` → SupervisedLoginRequired): the user logged in
 * to the bank again, and the consent the app already holds gets the new connection; no consent is
 * created, the consent's id, scopes and deadline stay. Returns the consent id, or null when the
 * consent is gone (revoked, erased, past its deadline) or belongs to another app or bank.
 * Idempotent like `createFlowConsent`: a second call finds the flow done and returns the same id.
 */
export async function reconnectFlowConsent(
  deps: FlowDeps,
  flowId: string,
  input: { providerId: string; connection: ProviderConnection; accounts: BankAccount[] },
): Promise<string | null> {
  const { db, clock } = deps;
  const now = clock.now();
  return transact(db, async (trx) => {
    const flow = await lockFlowRow(trx, flowId, now);
    if (flow.consent_id !== null) return flow.consent_id;
    const consentId = flowParams(flow).reconnectConsentId;
    if (consentId === null || consentId === undefined) throw new Error('not a reconnect flow');
    const consent = await trx.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirst();
    const live = consent !== undefined && consent.app_id === flow.app_id && consent.revoked_at === null && (consent.delete_at === null || consent.delete_at > now);
    if (!live || consent.provider_id !== input.providerId) return null;
    await deps.onConsentReconnected?.(trx, { consent, connection: input.connection, accounts: input.accounts, now });
    await trx.updateTable('flow_sessions').set({ consent_id: consent.id, updated_at: now }).where('id', '=', flowId).execute();
    return consent.id;
  });
}

export interface FinishedFlow {
  redirectUrl: string;
  consentId: string;
}

/**
 * Finishes a flow: creates its consent (unless an earlier step already did), mints the one-time
 * code and builds the redirect back to the app with `code`, `consentId`, `state` and `iss`.
 * Runs once per flow: the step guard is a conditional UPDATE, so a double-posted "Accept" gets
 * `null` the second time instead of a second code.
 */
export async function finishFlowSession(
  deps: FlowDeps,
  flowId: string,
  result: {
    providerId: string | null;
    userId?: string;
    /** Finish only a flow at this step (the hosted flow: `done`, so a cancelled flow never finishes); default: any but `returned`. */
    fromStep?: string;
    /** The flow's `data` once finished, given the redirect back (written in the same transaction). */
    finishedData?: (redirectUrl: string) => string;
  },
): Promise<FinishedFlow | null> {
  const { db, clock } = deps;
  const now = clock.now();
  return transact(db, async (trx) => {
    // The step guard and the read of the flow in one round trip (RETURNING; issue 8).
    const flow = await trx
      .updateTable('flow_sessions')
      .set({ step: 'returned', updated_at: now })
      .where('id', '=', flowId)
      .where('step', result.fromStep !== undefined ? '=' : '!=', result.fromStep ?? 'returned')
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (flow === undefined) return null;
    const params = flowParams(flow);
    let consentId = flow.consent_id;
    if (consentId === null) {
      const consent = await createConsent(trx, {
        appId: flow.app_id,
        ...(result.userId !== undefined ? { userId: result.userId } : {}),
        scopes: flow.scopes,
        oneTime: isOneTime(parseScopeList(flow.scopes)),
        providerId: result.providerId,
        groupId: params.accountsGroupId,
        groupName: params.accountsGroupName,
        now,
        retentionMs: deps.oneTimeRetentionMs,
      });
      consentId = consent.id;
      await trx.updateTable('flow_sessions').set({ consent_id: consentId }).where('id', '=', flowId).execute();
    }
    const code = await mintAuthorizationCode(trx, {
      appId: flow.app_id,
      consentId,
      redirectUri: flow.redirect_uri,
      scopes: flow.scopes,
      codeChallenge: flow.code_challenge,
      now,
    });
    const redirectUrl = buildAuthorizationRedirect(flow.redirect_uri, { code, consentId, state: flow.state, iss: deps.issuer });
    if (result.finishedData !== undefined) await trx.updateTable('flow_sessions').set({ data: result.finishedData(redirectUrl) }).where('id', '=', flowId).execute();
    deps.onFlowCompleted?.();
    return { consentId, redirectUrl };
  });
}

/** The redirect for a cancelled or failed flow (RFC 6749 §4.1.2.1): `error`, `error_description`, `state`, `iss`. */
export function flowErrorRedirect(
  flow: Pick<FlowSessionRow, 'redirect_uri' | 'state'>,
  issuer: string,
  error: 'access_denied' | 'server_error' | 'temporarily_unavailable',
  description: string,
): string {
  return buildAuthorizationRedirect(flow.redirect_uri, { error, error_description: description, state: flow.state, iss: issuer });
}

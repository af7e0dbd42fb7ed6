import type { Kysely } from 'kysely';
import { constantTimeEqual, newId, sha256 } from '../crypto.js';
import type { ConsentRow, Database } from '../db/schema.js';
import { flowPosition, parseFlowData, type FlowData } from '../flow/flow-store.js';
import { KEPT_APP_ID } from './kept-app.js';

/**
 * Claiming (step 5 of the one-time flow, issue #6): the user verifies an email and their bank
 * connection and data are kept in their Ferry account instead of being erased at the deadline.
 * The app's own access still ends at the deadline (reads and tokens check it as before).
 *
 * The claim is `consents.claimed_by`. At the deadline the sweeper calls
 * {@link preserveClaimedData} before it erases: a new consent held by the user (app
 * {@link KEPT_APP_ID}, not one-time, no deadline) takes over the connection, accounts and
 * transactions; then the app's consent is erased as usual (receipt and `DataDeleted` to the app).
 */

export { KEPT_APP_ID } from './kept-app.js';

export type ClaimProblem = 'unknown' | 'used' | 'finished';

export interface ClaimableFlow {
  flowId: string;
  appId: string;
  consentId: string;
  data: FlowData;
}

/** Checks a claim link's ticket against the flow (`claimTicketHash`, set by POST /flow/:id/claim). */
export async function verifyClaimTicket(db: Kysely<Database>, flowId: string, ticket: string, now: number): Promise<{ ok: true; flow: ClaimableFlow } | { ok: false; problem: ClaimProblem }> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(flowId) || ticket.length === 0 || ticket.length > 100) return { ok: false, problem: 'unknown' };
  const row = await db.selectFrom('flow_sessions').selectAll().where('id', '=', flowId).executeTakeFirst();
  if (row === undefined) return { ok: false, problem: 'unknown' };
  const data = parseFlowData(row);
  if (data.claimTicketHash === undefined || !constantTimeEqual(data.claimTicketHash, sha256(ticket))) {
    return { ok: false, problem: data.claimedBy !== undefined ? 'used' : 'unknown' };
  }
  if (flowPosition(row) !== 'done' || row.expires_at <= now || row.consent_id === null) return { ok: false, problem: 'finished' };
  return { ok: true, flow: { flowId: row.id, appId: row.app_id, consentId: row.consent_id, data } };
}

/**
 * Records that `userId` keeps the flow's consent: once (the ticket is spent in the same
 * transaction), only while the one-time consent is alive.
 */
export async function recordClaim(db: Kysely<Database>, input: { flowId: string; ticket: string; userId: string; now: number }): Promise<{ ok: true; consentId: string } | { ok: false; problem: ClaimProblem }> {
  return db.transaction().execute(async (trx) => {
    // Writing first takes the row lock (PostgreSQL) or the write lock (SQLite): two claims queue here.
    await trx.updateTable('flow_sessions').set({ updated_at: input.now }).where('id', '=', input.flowId).execute();
    const checked = await verifyClaimTicket(trx, input.flowId, input.ticket, input.now);
    if (!checked.ok) return checked;
    const claimed = await trx
      .updateTable('consents')
      .set({ claimed_by: input.userId })
      .where('id', '=', checked.flow.consentId)
      .where('one_time', '=', 1)
      .where('delete_at', '>', input.now)
      .where('claimed_by', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return { ok: false, problem: 'finished' };
    const { claimTicketHash: _spent, ...rest } = checked.flow.data;
    await trx
      .updateTable('flow_sessions')
      .set({ data: JSON.stringify({ ...rest, claimedBy: input.userId } satisfies FlowData) })
      .where('id', '=', input.flowId)
      .execute();
    return { ok: true, consentId: checked.flow.consentId };
  });
}

/**
 * The sweeper's hook, in its transaction, for the consents it is about to erase: each claimed one
 * hands its connection, accounts and transactions to a new consent of the user who claimed it.
 * Consents nobody claimed cost nothing (the claim is a column of the rows already read).
 * Returns the new consents' ids.
 */
export async function preserveClaimedData(trx: Kysely<Database>, consents: readonly ConsentRow[], now: number): Promise<string[]> {
  const claimed = consents.filter((c) => c.claimed_by !== null && c.claimed_by !== undefined);
  if (claimed.length === 0) return [];
  await ensureKeptApp(trx, now);
  const kept: string[] = [];
  for (const consent of claimed) {
    const id = newId();
    await trx
      .insertInto('consents')
      .values({
        id,
        app_id: KEPT_APP_ID,
        user_id: consent.claimed_by!,
        scopes: consent.scopes,
        one_time: 0,
        provider_id: consent.provider_id,
        status: 'Active',
        group_id: consent.group_id,
        group_name: consent.group_name,
        created_at: now,
        delete_at: null,
        revoked_at: null,
        claimed_by: null,
      })
      .execute();
    await trx.updateTable('connections').set({ consent_id: id }).where('consent_id', '=', consent.id).execute();
    // The transactions through their accounts' ids (the keyset index; migration 016).
    const accountIds = (await trx.selectFrom('accounts').select('id').where('consent_id', '=', consent.id).execute()).map((a) => a.id);
    await trx.updateTable('accounts').set({ consent_id: id }).where('consent_id', '=', consent.id).execute();
    if (accountIds.length > 0) await trx.updateTable('transactions').set({ consent_id: id }).where('account_id', 'in', accountIds).execute();
    kept.push(id);
  }
  return kept;
}

async function ensureKeptApp(trx: Kysely<Database>, now: number): Promise<void> {
  await trx
    .insertInto('apps')
    .values({
      id: KEPT_APP_ID,
      name: 'Ferry',
      // Not a hash of anything: no secret matches it.
      secret_hash: '!',
      previous_secret_hash: null,
      previous_secret_expires_at: null,
      webhook_url: null,
      webhook_secret: null,
      logo_url: null,
      brand_color: null,
      is_demo: 0,
      created_at: now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

import type { Kysely } from 'kysely';
import { constantTimeEqual, sha256 } from '../crypto.js';
import type { Database } from '../db/schema.js';
import { flowPosition, isFlowId, parseFlowData } from './flow-store.js';

/**
 * The consent side of the hosted flow's edges: a consent the user did not accept, a code that may
 * be sent again, and the ticket that lets the account pages claim a one-time connection.
 */

/**
 * Cancel on step 5: the consent was created when the accounts were confirmed, but the user never
 * accepted it. It is revoked, and its deletion deadline is now, so its data goes at the next sweep.
 */
export async function revokeUnacceptedConsent(db: Kysely<Database>, consentId: string, now: number): Promise<void> {
  await db
    .updateTable('consents')
    .set({ status: 'Revoked', revoked_at: now, delete_at: now })
    .where('id', '=', consentId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Whether the code in a redirect back to the app is still unused and alive (safe to send again). */
export async function codeIsUnused(db: Kysely<Database>, redirectUrl: string, now: number): Promise<boolean> {
  const code = new URL(redirectUrl).searchParams.get('code');
  if (code === null) return false;
  const row = await db.selectFrom('authorization_codes').select(['consumed_at', 'expires_at']).where('hash', '=', sha256(code)).executeTakeFirst();
  return row !== undefined && row.consumed_at === null && row.expires_at > now;
}

/**
 * For the account pages (claiming a one-time connection): the consent of the flow whose done page
 * issued this ticket, while the flow is still at its done step; null otherwise. After claiming,
 * send the user back to `/flow/<flowId>/done`, where Accept returns them to the app.
 */
export async function verifyClaimTicket(db: Kysely<Database>, flowId: string, ticket: string, now: number): Promise<{ consentId: string } | null> {
  if (!isFlowId(flowId) || ticket.length > 100) return null;
  const flow = await db.selectFrom('flow_sessions').selectAll().where('id', '=', flowId).where('expires_at', '>', now).executeTakeFirst();
  if (flow === undefined || flow.consent_id === null || flowPosition(flow) !== 'done') return null;
  const expected = parseFlowData(flow).claimTicketHash;
  if (expected === undefined || !constantTimeEqual(sha256(ticket), expected)) return null;
  return { consentId: flow.consent_id };
}

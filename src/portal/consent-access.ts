import type { Kysely } from 'kysely';
import { consentView, receiptView } from '../consents/routes.js';
import type { ConsentRevoker } from '../consents/revoke.js';
import type { Database } from '../db/schema.js';

export const CONSENTS_SHOWN = 50;

export type ConsentListItem = ReturnType<typeof consentView> & { needsLogin: boolean };
export type ReceiptListItem = ReturnType<typeof receiptView>;

/** The app's consents, newest first, as GET /v1/consents/{id} shows each, and its latest deletion receipts. */
export async function listAppConsents(db: Kysely<Database>, appId: string, now: number): Promise<{ consents: ConsentListItem[]; receipts: ReceiptListItem[] }> {
  const rows = await db.selectFrom('consents').selectAll().where('app_id', '=', appId).orderBy('created_at', 'desc').orderBy('id').limit(CONSENTS_SHOWN).execute();
  const ids = rows.map((r) => r.id);
  const stale = ids.length === 0 ? [] : await db.selectFrom('connections').select('consent_id').where('consent_id', 'in', ids).where('needs_login', '=', 1).execute();
  const needsLogin = new Set(stale.map((s) => s.consent_id));
  const receipts = await db.selectFrom('deletion_receipts').selectAll().where('app_id', '=', appId).orderBy('erased_at', 'desc').orderBy('consent_id').limit(CONSENTS_SHOWN).execute();
  return {
    consents: rows.map((row) => ({ ...consentView(row, now), needsLogin: needsLogin.has(row.id) })),
    receipts: receipts.map(receiptView),
  };
}

/**
 * Revokes one of the app's consents, as DELETE /v1/consents/{id} does (src/consents/routes.ts):
 * in one transaction, the consent's lock, a ConsentRevoked event, and the erasure with its
 * receipt and DataDeleted event. False when the app has no such consent (erased already, or another app's).
 */
export async function revokeAppConsent(revoker: ConsentRevoker, appId: string, consentId: string): Promise<boolean> {
  if (consentId.length > 64) return false;
  return (await revoker.revoke(consentId, (consent) => consent.app_id === appId)) !== null;
}

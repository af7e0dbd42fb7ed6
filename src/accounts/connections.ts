import type { Kysely } from 'kysely';
import type { ConsentRevoker } from '../consents/revoke.js';
import type { Database, DeletionReceiptRow } from '../db/schema.js';
import { maskedAccountNumber } from '../flow/format.js';
import { KEPT_APP_ID } from './claim.js';

/** One line of My connections. */
export interface UserConnection {
  consentId: string;
  appName: string;
  /** Data the user keeps for themselves (claimed at step 5): no app has access. */
  kept: boolean;
  providerId: string | null;
  since: number;
  /** A claimed one-time consent: when the app's access ends (the data then stays with the user). */
  appAccessUntil: number | null;
  needsLogin: boolean;
  accounts: { name: string; number: string | null }[];
}

/**
 * The user's consents: those given in the regular flow while signed in, those claimed at step 5
 * (until their deadline; then the kept copy), and the kept copies. Newest first.
 */
export async function listUserConnections(db: Kysely<Database>, userId: string, now: number): Promise<UserConnection[]> {
  const consents = await db
    .selectFrom('consents')
    .innerJoin('apps', 'apps.id', 'consents.app_id')
    .leftJoin('connections', 'connections.consent_id', 'consents.id')
    .select(['consents.id', 'consents.app_id', 'consents.provider_id', 'consents.created_at', 'consents.delete_at', 'consents.claimed_by', 'apps.name as app_name', 'connections.needs_login'])
    .where((eb) => eb.or([eb('consents.user_id', '=', userId), eb('consents.claimed_by', '=', userId)]))
    .where('consents.status', '=', 'Active')
    .orderBy('consents.created_at', 'desc')
    .execute();
  // A one-time consent past its deadline is gone for the app; a claimed one lives on as the kept copy.
  const live = consents.filter((c) => c.delete_at === null || c.delete_at > now || c.claimed_by === userId);
  const ids = live.map((c) => c.id);
  const accounts =
    ids.length === 0
      ? []
      : await db.selectFrom('accounts').select(['consent_id', 'name', 'bban', 'iban', 'card', 'position']).where('consent_id', 'in', ids).orderBy('position').execute();
  return live.map((c) => ({
    consentId: c.id,
    appName: c.app_name,
    kept: c.app_id === KEPT_APP_ID,
    providerId: c.provider_id,
    since: c.created_at,
    appAccessUntil: c.claimed_by === userId ? c.delete_at : null,
    needsLogin: c.needs_login === 1,
    accounts: accounts.filter((a) => a.consent_id === c.id).map((a) => ({ name: a.name, number: maskedAccountNumber(a) })),
  }));
}

export async function findUserConnection(db: Kysely<Database>, userId: string, consentId: string, now: number): Promise<UserConnection | undefined> {
  return (await listUserConnections(db, userId, now)).find((c) => c.consentId === consentId);
}

/**
 * The user stops sharing (or deletes what they kept): as when the app revokes it
 * (DELETE /v1/consents/{id}, src/consents/routes.ts): `ConsentRevoked`, then the consent's data
 * is erased at once with a receipt and `DataDeleted`. Null when the consent is not the user's.
 */
export async function revokeUserConsent(revoker: ConsentRevoker, input: { userId: string; consentId: string }): Promise<DeletionReceiptRow | null> {
  const revoked = await revoker.revoke(input.consentId, (consent) => consent.user_id === input.userId || consent.claimed_by === input.userId);
  return revoked?.receipt ?? null;
}

import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { FerryDatabase } from '../db/database.js';
import type { ConsentRow, DeletionReceiptRow } from '../db/schema.js';
import { recordEvent } from '../events/outbox.js';
import type { BankProvider, ProviderConnection } from '../providers/types.js';
import { eraseConsent, lockConsent } from './erase.js';

export interface RevokedConsent {
  receipt: DeletionReceiptRow;
  /** Settles once the bank was told to end its consent (or could not be); never rejects. */
  bankEnded: Promise<void>;
}

/**
 * Revoking a consent, the one way the app (DELETE /v1/consents/{id}), the developer portal and
 * the user's My connections all do it: in one transaction, the consent's lock, a `ConsentRevoked`
 * event, and the erasure with its receipt and `DataDeleted` event; then, after the commit, the
 * consent at the bank is ended too (NextGenPSD2 `DELETE /v1/consents/{consentId}`), so that the
 * bank stops honouring reads Ferry will never make again.
 */
export interface ConsentRevoker {
  /** Null when there is no such consent, or `mayRevoke` says this caller may not revoke it. */
  revoke(consentId: string, mayRevoke: (consent: ConsentRow) => boolean): Promise<RevokedConsent | null>;
}

export interface ConsentRevokerDeps {
  database: FerryDatabase;
  clock: Clock;
  providers: { get(id: string): BankProvider | undefined };
  log: FastifyBaseLogger;
  /** After a consent was erased (the webhook dispatcher looks at once). */
  onErased?: () => void;
}

export function createConsentRevoker(deps: ConsentRevokerDeps): ConsentRevoker {
  const { database, clock, providers, log } = deps;
  /** Best effort: the consent is revoked in Ferry whatever the bank answers; a failure is logged without the connection. */
  const endAtBank = async (consentId: string, stored: { provider_id: string; connection: string } | undefined): Promise<void> => {
    const provider = stored === undefined ? undefined : providers.get(stored.provider_id);
    if (stored === undefined || provider?.revokeConnection === undefined) return;
    try {
      await provider.revokeConnection(JSON.parse(stored.connection) as ProviderConnection, { now: () => clock.now() });
    } catch (error) {
      log.warn({ consentId, providerId: stored.provider_id, err: { type: (error as Error).name, message: (error as Error).message } }, 'could not end the consent at the bank');
    }
  };
  return {
    async revoke(consentId, mayRevoke) {
      const now = clock.now();
      const done = await database.db.transaction().execute(async (trx) => {
        const consent = await lockConsent(trx, database.capabilities, consentId);
        if (consent === undefined || !mayRevoke(consent)) return null;
        // Read before the erasure takes it: what the bank needs to find its consent.
        const stored = await trx.selectFrom('connections').select(['provider_id', 'connection']).where('consent_id', '=', consentId).executeTakeFirst();
        await recordEvent(trx, { appId: consent.app_id, consentId, event: 'ConsentRevoked', data: null, now });
        return { receipt: await eraseConsent(trx, database.capabilities, consent, 'ConsentRevoked', now), stored };
      });
      if (done === null) return null;
      log.info({ consentId, appId: done.receipt.app_id }, 'consent revoked and erased');
      deps.onErased?.();
      return { receipt: done.receipt, bankEnded: endAtBank(consentId, done.stored) };
    },
  };
}

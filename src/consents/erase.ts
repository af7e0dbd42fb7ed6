import { sql, type Kysely } from 'kysely';
import type { DatabaseCapabilities } from '../db/database.js';
import type { ConsentRow, Database, DeletionReceiptRow } from '../db/schema.js';
import { recordEvent } from '../events/outbox.js';

export type ErasureReason = 'OneTimeRetention' | 'ConsentRevoked';

/** Rows erased per table, for the receipt (numbers only: a receipt holds no personal data). */
export type RowCounts = Record<string, number>;

/**
 * Erases everything that belongs to one consent, in the caller's transaction: its transactions,
 * accounts, bank connection, tokens, codes, flow sessions and pending jobs, then the consent
 * itself, and leaves a deletion receipt and a `DataDeleted` event (aiia-api.md §5, Ferry's own).
 * On SQLite `secure_delete` is on (src/db/database.ts): the erased bytes are overwritten.
 */
export async function eraseConsent(trx: Kysely<Database>, consent: ConsentRow, reason: ErasureReason, now: number): Promise<DeletionReceiptRow> {
  const counts: RowCounts = {};
  const count = (table: string, result: { numDeletedRows: bigint }) => {
    counts[table] = (counts[table] ?? 0) + Number(result.numDeletedRows);
  };
  const grantIds = trx.selectFrom('grants').select('id').where('consent_id', '=', consent.id);
  count('transactions', await trx.deleteFrom('transactions').where('consent_id', '=', consent.id).executeTakeFirst());
  count('accounts', await trx.deleteFrom('accounts').where('consent_id', '=', consent.id).executeTakeFirst());
  count('connections', await trx.deleteFrom('connections').where('consent_id', '=', consent.id).executeTakeFirst());
  count('refresh_tokens', await trx.deleteFrom('refresh_tokens').where('grant_id', 'in', grantIds).executeTakeFirst());
  count('grants', await trx.deleteFrom('grants').where('consent_id', '=', consent.id).executeTakeFirst());
  count('authorization_codes', await trx.deleteFrom('authorization_codes').where('consent_id', '=', consent.id).executeTakeFirst());
  count('flow_sessions', await trx.deleteFrom('flow_sessions').where('consent_id', '=', consent.id).executeTakeFirst());
  // Pending and finished jobs of the consent go; a sync running right now finds the consent gone.
  count('jobs', await trx.deleteFrom('jobs').where('consent_id', '=', consent.id).where('status', '!=', 'running').executeTakeFirst());
  count('consents', await trx.deleteFrom('consents').where('id', '=', consent.id).executeTakeFirst());

  const receipt: DeletionReceiptRow = {
    consent_id: consent.id,
    app_id: consent.app_id,
    one_time: consent.one_time,
    scopes: consent.scopes,
    consent_created_at: consent.created_at,
    deadline: consent.delete_at,
    erased_at: now,
    reason,
    row_counts: JSON.stringify(counts),
  };
  await trx.insertInto('deletion_receipts').values(receipt).execute();
  await recordEvent(trx, { appId: consent.app_id, consentId: consent.id, event: 'DataDeleted', data: { deletedAt: new Date(now).toISOString(), reason }, now });
  return receipt;
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

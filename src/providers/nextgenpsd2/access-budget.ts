import type { Kysely } from 'kysely';
import { sha256 } from '../../crypto.js';
import type { Database } from '../../db/schema.js';
import { RateLimitedError } from '../errors.js';

/**
 * The reads a consent allows without the user: PSD2 RTS art. 36(5) and the consent's
 * `frequencyPerDay` (Berlin Group: "maximum frequency for an access without PSU involvement per day").
 * Banks count per resource (the account list, each account's balances, each account's transactions);
 * so does Ferry, over the last 24 hours, which keeps within any calendar day the bank may count by.
 * A read is recorded before it is made, so a failed read still counts, as it does at the bank. Reads
 * with the user present are not counted (and are never made for a background job).
 */

export const BUDGET_WINDOW_MS = 24 * 3600_000;
/** Records older than this are of no use: erased as new ones come. */
const KEEP_MS = 2 * BUDGET_WINDOW_MS;

export class AccessBudget {
  constructor(private readonly db: Kysely<Database>) {}

  static consentKey(providerId: string, consentId: string): string {
    return sha256(`ferry-xs2a-budget\0${providerId}\0${consentId}`);
  }

  /** Records an unattended read of `resource`, or throws `RateLimitedError` with when the next one fits. */
  async spend(consentKey: string, resource: string, perDay: number, now: number): Promise<void> {
    const since = now - BUDGET_WINDOW_MS;
    const reads = await this.db
      .selectFrom('xs2a_unattended_reads')
      .select('read_at')
      .where('consent_key', '=', consentKey)
      .where('resource', '=', resource)
      .where('read_at', '>', since)
      .orderBy('read_at')
      .execute();
    if (reads.length >= perDay) {
      // The oldest read in the window leaves it first.
      const retryAt = Number(reads[reads.length - perDay]!.read_at) + BUDGET_WINDOW_MS;
      throw new RateLimitedError(`the ${perDay} reads a day without the user are spent for ${resource.split(':')[0]}`, retryAt, 'budget');
    }
    await this.db.insertInto('xs2a_unattended_reads').values({ consent_key: consentKey, resource, read_at: now }).execute();
    await this.db.deleteFrom('xs2a_unattended_reads').where('read_at', '<', now - KEEP_MS).execute();
  }
}

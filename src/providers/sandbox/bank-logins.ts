import type { Kysely, Selectable } from 'kysely';
import { randomToken, sha256 } from '../../crypto.js';
import type { Database, SandboxBankLoginsTable } from '../../db/schema.js';

/**
 * The sandbox banks' side of a decoupled or redirect login, kept in the database so any Ferry
 * process can serve the bank's page, the "phone" and the flow's next poll. Rows are found by the
 * SHA-256 of a random handle; the handle lives only in the URL and the flow's login state.
 */

export type SandboxLoginRow = Selectable<SandboxBankLoginsTable>;

/** How long the user has to approve in the app. */
export const DECOUPLED_LOGIN_TTL_MS = 5 * 60_000;
/** How long the user has to log in at the redirect bank's page. */
export const REDIRECT_LOGIN_TTL_MS = 10 * 60_000;
/** How long the redirect bank's authorization code can be exchanged. */
export const AUTHORIZATION_CODE_TTL_MS = 2 * 60_000;
/** Rows are erased this long after they expire. */
const RETENTION_AFTER_EXPIRY_MS = 60 * 60_000;

export class SandboxBankLogins {
  constructor(private readonly db: Kysely<Database>) {}

  /** Starts a login at the bank; returns the handle for the bank page's URL. */
  async create(input: {
    providerId: string;
    method: 'Decoupled' | 'Redirect';
    status: 'Pending' | 'Rejected';
    username: string | null;
    culture: string;
    returnUrl: string | null;
    state: string | null;
    now: number;
    ttlMs: number;
  }): Promise<string> {
    const handle = randomToken(24);
    await this.deleteExpired(input.now);
    await this.db
      .insertInto('sandbox_bank_logins')
      .values({
        id: sha256(handle),
        provider_id: input.providerId,
        method: input.method,
        status: input.status,
        username: input.username,
        culture: input.culture,
        return_url: input.returnUrl,
        state: input.state,
        code_hash: null,
        error: null,
        attempts: 0,
        created_at: input.now,
        expires_at: input.now + input.ttlMs,
        decided_at: input.status === 'Pending' ? null : input.now,
        consumed_at: null,
      })
      .execute();
    return handle;
  }

  /** The login behind a handle at this bank, or null. */
  async find(providerId: string, handle: string): Promise<SandboxLoginRow | null> {
    if (handle.length === 0 || handle.length > 100) return null;
    const row = await this.db
      .selectFrom('sandbox_bank_logins')
      .selectAll()
      .where('id', '=', sha256(handle))
      .where('provider_id', '=', providerId)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Counts a wrong password or PIN; returns the new count. */
  async countAttempt(row: SandboxLoginRow): Promise<number> {
    await this.db.updateTable('sandbox_bank_logins').set({ attempts: row.attempts + 1 }).where('id', '=', row.id).execute();
    return row.attempts + 1;
  }

  /** Decides a pending login once; false when it was decided already (two taps, two processes). */
  async decide(row: SandboxLoginRow, decision: { status: 'Approved' | 'Rejected' | 'Failed'; error?: string; username?: string; codeHash?: string; expiresAt?: number }, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sandbox_bank_logins')
      .set({
        status: decision.status,
        error: decision.error ?? null,
        username: decision.username ?? row.username,
        code_hash: decision.codeHash ?? null,
        decided_at: now,
        expires_at: decision.expiresAt ?? row.expires_at,
      })
      .where('id', '=', row.id)
      .where('status', '=', 'Pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Exchanges the redirect bank's authorization code for the username it was issued to: one atomic
   * update, so a code works once even when two requests race.
   */
  async consumeCode(providerId: string, handle: string, code: string, now: number): Promise<string | null> {
    const row = await this.db
      .updateTable('sandbox_bank_logins')
      .set({ consumed_at: now })
      .where('id', '=', sha256(handle))
      .where('provider_id', '=', providerId)
      .where('method', '=', 'Redirect')
      .where('status', '=', 'Approved')
      .where('code_hash', '=', sha256(code))
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('username')
      .executeTakeFirst();
    return row?.username ?? null;
  }

  private async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('sandbox_bank_logins').where('expires_at', '<', now - RETENTION_AFTER_EXPIRY_MS).execute();
  }
}

export function newAuthorizationCode(): { code: string; hash: string } {
  const code = randomToken(32);
  return { code, hash: sha256(code) };
}

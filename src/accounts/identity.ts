/**
 * Ferry's identity core: who a person is, proven by a 6-digit code sent to their email. Generic on
 * purpose: the account pages (My connections, the hosted flow's sign-in, claiming) use it with
 * purpose 'account', the developer portal with purpose 'portal'.
 *
 *   const deps = await createIdentityDeps({ db, clock, mailer });          // once, at start
 *   await sendSignInCode(deps, { email, purpose: 'account', culture, ip }); // → { ok } | { ok: false, reason }
 *   await verifySignInCode(deps, { email, code, purpose: 'account' });      // → { ok, user, created } | { ok: false, reason }
 *   const token = await createUserSession(db, clock, user.id, 'account');  // sessions.ts: cookie value
 *   await readUserSession(db, clock, token, 'account');                    // → { user, session } | null
 *
 * Codes: crypto.randomInt, stored as an HMAC under a deployment secret (never the code), valid
 * for 10 minutes, single use, at most 5 tries, compared in constant time; a new code replaces the
 * previous one. Sending is limited per address and per IP (fixed windows in `rate_limits`, shared
 * by every process). The user is created on the first successful verification. Mail: mailer.ts.
 * Nothing here logs an address or a code.
 */
import { createHmac, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { constantTimeEqual, newId, sha256 } from '../crypto.js';
import type { Database, UserRow } from '../db/schema.js';
import type { Culture } from '../providers/types.js';
import { deploymentSecret } from '../settings.js';
import { checkEmail, type EmailProblem } from './email-address.js';
import type { Mailer } from './mailer.js';
import { ACCOUNT_MESSAGES } from './messages.js';
import { fill } from '../flow/text.js';

export { checkEmail, normalizeEmail, type EmailProblem } from './email-address.js';

export type CodePurpose = 'account' | 'portal';

export const CODE_TTL_MS = 10 * 60_000;
export const MAX_CODE_ATTEMPTS = 5;
/** Codes sent to one address per window, and per IP. */
export const CODES_PER_EMAIL = 5;
export const CODES_PER_IP = 20;
export const CODE_WINDOW_MS = 15 * 60_000;

export interface IdentityDeps {
  db: Kysely<Database>;
  clock: Clock;
  mailer: Mailer;
  /** Keys the code hashes (a 6-digit code's plain SHA-256 is found by trying a million). */
  codeKey: Buffer;
}

export async function createIdentityDeps(input: Omit<IdentityDeps, 'codeKey'>): Promise<IdentityDeps> {
  return { ...input, codeKey: await deploymentSecret(input.db, 'email-codes') };
}

export type SendRefusal = EmailProblem | 'rate_limited' | 'mail_failed';
export type SendResult = { ok: true; email: string; expiresAt: number } | { ok: false; reason: SendRefusal; retryAfterSeconds?: number; mailError?: string };

/** Sends a fresh code to `email` (normalized), replacing any earlier one for the same purpose. */
export async function sendSignInCode(
  deps: IdentityDeps,
  input: { email: string; purpose: CodePurpose; culture: Culture; ip?: string },
): Promise<SendResult> {
  const checked = checkEmail(input.email);
  if (!checked.ok) return { ok: false, reason: checked.problem };
  const { email } = checked;
  const now = deps.clock.now();
  for (const [key, max] of [
    [`signin-email:${sha256(email)}`, CODES_PER_EMAIL],
    ...(input.ip !== undefined ? [[`signin-ip:${input.ip}`, CODES_PER_IP] as const] : []),
  ] as const) {
    const window = await countInWindow(deps.db, key, CODE_WINDOW_MS, now);
    if (window.count > max) return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.ceil((window.resetAt - now) / 1000) };
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expiresAt = now + CODE_TTL_MS;
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('email_codes').set({ consumed_at: now }).where('email', '=', email).where('purpose', '=', input.purpose).where('consumed_at', 'is', null).execute();
    await trx
      .insertInto('email_codes')
      .values({ id: newId(), email, purpose: input.purpose, code_hash: hashCode(deps.codeKey, email, input.purpose, code), attempts: 0, created_at: now, expires_at: expiresAt, consumed_at: null })
      .execute();
  });
  const t = ACCOUNT_MESSAGES[input.culture];
  try {
    await deps.mailer.send({
      to: email,
      subject: fill(t.mailSubject, { code }),
      text: fill(t.mailText, { code, minutes: CODE_TTL_MS / 60_000 }),
    });
  } catch (error) {
    // The mail server refused or is down: the code reached nobody, so it is spent. Only the
    // error's code is reported (an SMTP answer may quote the address).
    await deps.db.updateTable('email_codes').set({ consumed_at: now }).where('email', '=', email).where('purpose', '=', input.purpose).where('consumed_at', 'is', null).execute();
    return { ok: false, reason: 'mail_failed', mailError: String((error as { code?: unknown }).code ?? 'unknown') };
  }
  return { ok: true, email, expiresAt };
}

export type VerifyRefusal = 'wrong' | 'expired' | 'too_many_attempts';
export type VerifyResult = { ok: true; user: UserRow; created: boolean } | { ok: false; reason: VerifyRefusal; attemptsLeft?: number };

/**
 * Checks a code against the latest one sent to `email` for `purpose`. Every try counts (one
 * conditional UPDATE, so parallel guesses cannot exceed the limit); a right code is consumed
 * (once: a second use finds it spent) and signs in the address's user, created on first use.
 */
export async function verifySignInCode(deps: IdentityDeps, input: { email: string; code: string; purpose: CodePurpose }): Promise<VerifyResult> {
  const checked = checkEmail(input.email);
  if (!checked.ok) return { ok: false, reason: 'expired' };
  const { email } = checked;
  const { db, clock } = deps;
  const now = clock.now();
  const latest = await db
    .selectFrom('email_codes')
    .selectAll()
    .where('email', '=', email)
    .where('purpose', '=', input.purpose)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (latest === undefined || latest.consumed_at !== null || latest.expires_at <= now) return { ok: false, reason: 'expired' };
  if (latest.attempts >= MAX_CODE_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
  const counted = await db
    .updateTable('email_codes')
    .set({ attempts: sql`attempts + 1` })
    .where('id', '=', latest.id)
    .where('attempts', '<', MAX_CODE_ATTEMPTS)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  if (Number(counted.numUpdatedRows) !== 1) return { ok: false, reason: 'too_many_attempts' };
  const presented = input.code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(presented) || !constantTimeEqual(hashCode(deps.codeKey, email, input.purpose, presented), latest.code_hash)) {
    const left = MAX_CODE_ATTEMPTS - latest.attempts - 1;
    return left > 0 ? { ok: false, reason: 'wrong', attemptsLeft: left } : { ok: false, reason: 'too_many_attempts' };
  }
  const consumed = await db.updateTable('email_codes').set({ consumed_at: now }).where('id', '=', latest.id).where('consumed_at', 'is', null).executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) return { ok: false, reason: 'expired' };
  return { ok: true, ...(await findOrCreateUser(db, email, now)) };
}

/** The user of a (normalized) address, created when there is none (two racing creations agree on one row). */
export async function findOrCreateUser(db: Kysely<Database>, email: string, now: number): Promise<{ user: UserRow; created: boolean }> {
  const existing = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  if (existing !== undefined) return { user: existing, created: false };
  const id = newId();
  await db.insertInto('users').values({ id, email, created_at: now, is_operator: 0 }).onConflict((oc) => oc.column('email').doNothing()).execute();
  const user = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  return { user, created: user.id === id };
}

export async function findUser(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Spent and expired codes are forgotten an hour on (the retention sweeper's housekeeping). */
export async function purgeEmailCodes(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('email_codes').where('expires_at', '<', now - 3600_000).executeTakeFirst();
  return Number(result.numDeletedRows);
}

function hashCode(key: Buffer, email: string, purpose: string, code: string): string {
  return createHmac('sha256', key).update(`${purpose}\n${email}\n${code}`).digest('base64url');
}

/** One hit in a fixed window shared by every process (the `rate_limits` table, as the HTTP limits use it). */
async function countInWindow(db: Kysely<Database>, key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }> {
  const resetAt = now + windowMs;
  const row = await db
    .insertInto('rate_limits')
    .values({ key, count: 1, reset_at: resetAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql`case when rate_limits.reset_at <= ${now} then 1 else rate_limits.count + 1 end`,
        reset_at: sql`case when rate_limits.reset_at <= ${now} then ${resetAt} else rate_limits.reset_at end`,
      }),
    )
    .returning(['count', 'reset_at'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

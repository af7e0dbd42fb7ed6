import type { Kysely } from 'kysely';
import { normalizeEmail } from '../accounts/email-address.js';
import type { Clock } from '../clock.js';
import type { PortalConfig } from '../config.js';
import type { Database } from '../db/schema.js';

/**
 * Who may enter the portal. Sign-up open (the default): anyone who proves an address. Closed:
 * the addresses the operator invited (`ferry portal invite`) and operators. Operators are users
 * with `is_operator` (`ferry portal grant-operator`, also before the person first signs in: the
 * grant waits on the invitation) or addresses in FERRY_PORTAL_OPERATORS.
 */
export async function invite(db: Kysely<Database>, clock: Clock, rawEmail: string, options: { operator?: boolean } = {}): Promise<string> {
  const email = normalizeEmail(rawEmail);
  const operator = options.operator ? 1 : 0;
  await db
    .insertInto('portal_invitations')
    .values({ email, operator, invited_at: clock.now() })
    .onConflict((oc) => oc.column('email').doUpdateSet(operator === 1 ? { operator: 1 } : { invited_at: clock.now() }))
    .execute();
  return email;
}

/** Makes the address an operator: at once if it has an account, else when it first signs in. */
export async function grantOperator(db: Kysely<Database>, clock: Clock, rawEmail: string): Promise<{ email: string; existingUser: boolean }> {
  const email = await invite(db, clock, rawEmail, { operator: true });
  const updated = await db.updateTable('users').set({ is_operator: 1 }).where('email', '=', email).executeTakeFirst();
  return { email, existingUser: Number(updated.numUpdatedRows) > 0 };
}

export async function isOperatorEmail(db: Kysely<Database>, config: PortalConfig, email: string): Promise<boolean> {
  if (config.operators.includes(email)) return true;
  const user = await db.selectFrom('users').select('is_operator').where('email', '=', email).executeTakeFirst();
  if (user?.is_operator === 1) return true;
  const invitation = await db.selectFrom('portal_invitations').select('operator').where('email', '=', email).executeTakeFirst();
  return invitation?.operator === 1;
}

/** Whether a (normalized) address may get a sign-in code. */
export async function mayEnterPortal(db: Kysely<Database>, config: PortalConfig, email: string): Promise<boolean> {
  if (config.signup === 'open') return true;
  if (await isOperatorEmail(db, config, email)) return true;
  const invitation = await db.selectFrom('portal_invitations').select('email').where('email', '=', email).executeTakeFirst();
  return invitation !== undefined;
}

/** After a successful sign-in: an operator grant that waited on the invitation takes effect. */
export async function applyInvitation(db: Kysely<Database>, userId: string, email: string): Promise<void> {
  const invitation = await db.selectFrom('portal_invitations').select('operator').where('email', '=', email).executeTakeFirst();
  if (invitation?.operator === 1) await db.updateTable('users').set({ is_operator: 1 }).where('id', '=', userId).where('is_operator', '=', 0).execute();
}

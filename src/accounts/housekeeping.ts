import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { purgeEmailCodes } from './identity.js';
import { pruneSandboxMail } from './mailer.js';
import { purgeUserSessions } from './sessions.js';

/** What Ferry accounts leave behind on their own: spent codes, ended sessions, sandbox mail older than a day (the retention sweep runs it). */
export async function purgeAccountLeftovers(db: Kysely<Database>, now: number): Promise<{ email_codes: number; user_sessions: number; sandbox_mail: number }> {
  return {
    email_codes: await purgeEmailCodes(db, now),
    user_sessions: await purgeUserSessions(db, now),
    sandbox_mail: await pruneSandboxMail(db, now),
  };
}

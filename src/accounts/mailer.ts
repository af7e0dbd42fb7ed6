import type { Kysely } from 'kysely';
import nodemailer from 'nodemailer';
import type { Clock } from '../clock.js';
import { newId } from '../crypto.js';
import type { Database } from '../db/schema.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Sends mail: over SMTP when the operator configured a server, else into the sandbox mailbox. */
export interface Mailer {
  /** 'smtp' sends for real; 'sandbox' keeps the mail for /sandbox/mailbox; 'none' cannot send (no SMTP, sandbox off). */
  readonly kind: 'smtp' | 'sandbox' | 'none';
  send(mail: Mail): Promise<void>;
}

export interface MailConfig {
  /** smtp:// or smtps:// URL with credentials (FERRY_SMTP_URL); null: the sandbox mailbox. */
  smtpUrl: string | null;
  /** The From header (FERRY_MAIL_FROM). */
  from: string;
}

/** How long the sandbox mailbox keeps mail: it holds addresses and codes, which are personal data. */
export const SANDBOX_MAIL_TTL_MS = 24 * 3600_000;

/**
 * SMTP when configured; else the sandbox mailbox while the sandbox is on; else nothing: with the
 * sandbox off nobody may read the mailbox page, so keeping mail there would only keep personal data.
 */
export function createMailer(config: MailConfig, db: Kysely<Database>, clock: Clock, options: { sandbox?: boolean } = {}): Mailer {
  if (config.smtpUrl !== null) return smtpMailer(config.smtpUrl, config.from);
  return options.sandbox === false ? noMailer() : sandboxMailer(db, clock);
}

/** No way to send: every send fails, so the sign-in pages say the mail could not be sent. */
export function noMailer(): Mailer {
  return {
    kind: 'none',
    async send() {
      throw Object.assign(new Error('no mail server is configured (FERRY_SMTP_URL)'), { code: 'ENOMAILSERVER' });
    },
  };
}

/** Real mail through nodemailer's SMTP transport (a connection per message; TLS as the URL says: smtps://, or STARTTLS when offered). */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url, { from });
  return {
    kind: 'smtp',
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, ...(mail.html !== undefined ? { html: mail.html } : {}) });
    },
  };
}

/** No mail server: the mail is stored for the sandbox mailbox page, and pruned after {@link SANDBOX_MAIL_TTL_MS}. */
export function sandboxMailer(db: Kysely<Database>, clock: Clock): Mailer {
  return {
    kind: 'sandbox',
    async send(mail) {
      await db
        .insertInto('sandbox_mail')
        .values({ id: newId(), to_address: mail.to, subject: mail.subject, text_body: mail.text, html_body: mail.html ?? null, created_at: clock.now() })
        .execute();
    },
  };
}

/** Forgets sandbox mail older than a day (the retention sweeper's housekeeping calls it). */
export async function pruneSandboxMail(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('sandbox_mail').where('created_at', '<', now - SANDBOX_MAIL_TTL_MS).executeTakeFirst();
  return Number(result.numDeletedRows);
}

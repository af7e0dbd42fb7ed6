import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { formatDateTime } from '../flow/format.js';
import { requestCulture } from '../flow/flow-context.js';
import { renderPage } from '../http/page.js';
import { SANDBOX_MAIL_TTL_MS } from './mailer.js';
import { accountView, AccountPage, type AccountView } from './pages/account-layout.js';

export interface SandboxMailboxOptions {
  db: Kysely<Database>;
  termsUrl: string | null;
  privacyUrl: string | null;
}

/** The newest mail shown; older mail is pruned after a day anyway. */
const SHOWN = 50;

/**
 * GET /sandbox/mailbox: the mail Ferry would have sent, newest first, when no SMTP server is
 * configured (registered only then, and only with the sandbox on: it shows everyone's sign-in
 * codes, which is what a sandbox is for and nothing a real deployment may do).
 */
export async function sandboxMailboxRoutes(app: FastifyInstance, options: SandboxMailboxOptions): Promise<void> {
  app.get('/sandbox/mailbox', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    const mail = await options.db.selectFrom('sandbox_mail').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(SHOWN).execute();
    const view = accountView(requestCulture(request, null), '', null, options);
    reply.header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    return reply.type('text/html; charset=utf-8').send(renderPage(<MailboxPage view={view} mail={mail} />));
  });
}

type MailRow = { id: string; to_address: string; subject: string; text_body: string; created_at: number };

function MailboxPage({ view, mail }: { view: AccountView; mail: MailRow[] }) {
  const { t } = view;
  return (
    <AccountPage view={view} title={t.mailboxTitle} badge={t.mailboxTitle}>
      <div class="notice notice-warning">
        <p>{t.mailboxBanner}</p>
        <p class="small">{t.mailboxKept.replace('24', String(SANDBOX_MAIL_TTL_MS / 3600_000))}</p>
      </div>
      {mail.length === 0 ? (
        <p class="empty-state">{t.mailboxEmpty}</p>
      ) : (
        <ol class="mailbox">
          {mail.map((m) => (
            <li class="panel mail" key={m.id}>
              <h2>{m.subject}</h2>
              <dl class="connection-facts">
                <div>
                  <dt>{t.mailboxTo}</dt>
                  <dd class="mail-to">{m.to_address}</dd>
                </div>
                <div>
                  <dt>{t.mailboxSent}</dt>
                  <dd>
                    <time datetime={new Date(m.created_at).toISOString()} data-local="">{formatDateTime(view.culture, m.created_at)}</time>
                  </dd>
                </div>
              </dl>
              <pre class="mail-body">{m.text_body}</pre>
            </li>
          ))}
        </ol>
      )}
    </AccountPage>
  );
}

import { formatDateTime } from '../../flow/format.js';
import { fill, fillNodes } from '../../flow/text.js';
import type { UserConnection } from '../connections.js';
import { AccountPage, Notice, type AccountView } from './account-layout.js';

export interface ConnectionsPageProps {
  view: AccountView;
  connections: UserConnection[];
  bankName: (providerId: string | null) => string;
  notice: string | null;
}

function Time({ view, at }: { view: AccountView; at: number }) {
  return (
    <time datetime={new Date(at).toISOString()} data-local="">
      {formatDateTime(view.culture, at)}
    </time>
  );
}

/** My connections: each app the user shares with (and what they kept), which bank and accounts, since when; stop any of them. */
export function ConnectionsPage({ view, connections, bankName, notice }: ConnectionsPageProps) {
  const { t } = view;
  return (
    <AccountPage view={view} title={t.connectionsTitle}>
      {notice !== null ? <Notice text={notice} /> : null}
      <p class="lead">{t.connectionsIntro}</p>
      {connections.length === 0 ? (
        <p class="empty-state">{t.connectionsEmpty}</p>
      ) : (
        <ul class="connection-list">
          {connections.map((c) => {
            const name = c.kept ? t.keptName : c.appName;
            const headingId = `connection-${c.consentId}`;
            return (
              <li class="panel connection" key={c.consentId}>
                <h2 id={headingId}>{name}</h2>
                {c.kept ? <p class="small muted">{t.keptText}</p> : null}
                <dl class="connection-facts">
                  <div>
                    <dt>{t.connectionBank}</dt>
                    <dd>{bankName(c.providerId)}</dd>
                  </div>
                  <div>
                    <dt>{t.connectionAccounts}</dt>
                    <dd>
                      {c.accounts.length === 0 ? (
                        t.connectionNoAccounts
                      ) : (
                        <ul class="connection-accounts">
                          {c.accounts.map((a, i) => (
                            <li key={`${i}-${a.name}`}>
                              {a.name}
                              {a.number !== null ? <span class="account-number"> {a.number}</span> : null}
                            </li>
                          ))}
                        </ul>
                      )}
                    </dd>
                  </div>
                  <div>
                    <dt>{t.connectionSince}</dt>
                    <dd>
                      <Time view={view} at={c.since} />
                    </dd>
                  </div>
                  <div>
                    <dt>{t.connectionStatus}</dt>
                    <dd>
                      {c.appAccessUntil !== null
                        ? fillNodes(t.statusOneTime, { app: c.appName, time: <Time view={view} at={c.appAccessUntil} /> })
                        : c.needsLogin
                          ? t.statusNeedsLogin
                          : t.statusActive}
                    </dd>
                  </div>
                </dl>
                <p class="connection-actions">
                  <a class="button button-secondary" href={`/account/connections/${encodeURIComponent(c.consentId)}/revoke`} aria-describedby={headingId}>
                    {c.kept ? t.deleteKeptButton : fill(t.revokeButton, { app: c.appName })}
                  </a>
                </p>
              </li>
            );
          })}
        </ul>
      )}
    </AccountPage>
  );
}

/** Stop sharing with an app (or delete what was kept): what happens, then confirm or go back. */
export function RevokePage({ view, connection }: { view: AccountView; connection: UserConnection }) {
  const { t } = view;
  const app = connection.appName;
  return (
    <AccountPage view={view} title={connection.kept ? t.deleteKeptTitle : fill(t.revokeTitle, { app })}>
      <p class="lead">{connection.kept ? t.deleteKeptText : fill(t.revokeText, { app })}</p>
      <form method="post" action={`/account/connections/${encodeURIComponent(connection.consentId)}/revoke`} class="step-form">
        <input type="hidden" name="_csrf" value={view.csrf} />
        <button type="submit" class="button button-primary button-danger">
          {connection.kept ? t.deleteKeptConfirm : t.revokeConfirm}
        </button>
      </form>
      <div class="secondary-actions">
        <a class="button-link" href="/account">
          {t.goBack}
        </a>
      </div>
    </AccountPage>
  );
}

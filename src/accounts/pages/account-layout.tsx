import type { ComponentChildren } from 'preact';
import { Page } from '../../http/page.js';
import { LockIcon } from '../../flow/pages/layout.js';
import { FLOW_MESSAGES } from '../../flow/messages.js';
import type { Culture } from '../../providers/types.js';
import { fill } from '../../flow/text.js';
import { ACCOUNT_MESSAGES, type AccountMessages } from '../messages.js';

/** What every account page is rendered with. */
export interface AccountView {
  culture: Culture;
  t: AccountMessages;
  csrf: string;
  /** The signed-in user's address, shown with Sign out; null before sign-in. */
  email: string | null;
  termsUrl: string;
  privacyUrl: string;
}

export function accountView(culture: Culture, csrf: string, email: string | null, legal: { termsUrl: string | null; privacyUrl: string | null }): AccountView {
  return {
    culture,
    t: ACCOUNT_MESSAGES[culture],
    csrf,
    email,
    termsUrl: legal.termsUrl ?? `/terms?culture=${culture}`,
    privacyUrl: legal.privacyUrl ?? `/privacy?culture=${culture}`,
  };
}

/** The frame of the account pages: the hosted flow's look (flow.css), Ferry's name instead of an app's. */
export function AccountPage({ view, title, hasError, badge, children }: { view: AccountView; title: string; hasError?: boolean; badge?: string; children: ComponentChildren }) {
  const flow = FLOW_MESSAGES[view.culture];
  return (
    <Page culture={view.culture} title={`${hasError ? `${flow.errorTitlePrefix}: ` : ''}${title} – Ferry`} styles={['/assets/flow.css', '/assets/accounts.css']} scripts={['/assets/flow.js']}>
      <div class="flow">
        <header class="flow-header">
          <span class="flow-app">
            <span class="app-badge" aria-hidden="true">
              F
            </span>
            <span class="app-name">Ferry</span>
          </span>
          <span class="flow-secure">
            <LockIcon />
            {badge ?? view.t.connectionsTitle}
          </span>
        </header>
        <main class="flow-card" id="main">
          {view.email !== null ? <SignedInBar view={view} /> : null}
          <h1 id="page-title">{title}</h1>
          {children}
        </main>
        <footer class="flow-footer">
          <p>{flow.poweredBy}</p>
          <p>
            <a href={view.termsUrl}>{flow.termsLink}</a>
            <span aria-hidden="true"> · </span>
            <a href={view.privacyUrl}>{flow.privacyLink}</a>
          </p>
        </footer>
      </div>
    </Page>
  );
}

function SignedInBar({ view }: { view: AccountView }) {
  return (
    <div class="signed-in">
      <p>{fill(view.t.signedInAs, { email: view.email ?? '' })}</p>
      <form method="post" action="/account/sign-out">
        <input type="hidden" name="_csrf" value={view.csrf} />
        <button type="submit" class="button-link">
          {view.t.signOut}
        </button>
      </form>
    </div>
  );
}

export function Notice({ text, tone }: { text: string; tone?: 'warning' }) {
  return (
    <div class={tone === 'warning' ? 'notice notice-warning' : 'notice'} role="status">
      <p>{text}</p>
    </div>
  );
}

import type { ComponentChildren } from 'preact';
import { render } from 'preact-render-to-string';
import { languageTag } from '../../i18n/culture.js';
import { providerMessage, type ProviderMessageKey } from '../messages.js';
import type { Culture } from '../types.js';
import type { SandboxBank } from './banks.js';
import { sandboxLogoPath } from './logos.js';

/**
 * The sandbox banks' own pages: what a real bank would show on its site and in its app. Server-
 * rendered, no script and no inline style (strict CSP), one stylesheet, labelled fields, the page's
 * language on `<html lang>`, usable on a phone. Each bank wears its own colour (`bank--<id>`).
 */

export const BANK_STYLESHEET_PATH = '/sandbox/assets/bank.css';

export function bankClass(bank: SandboxBank): string {
  return `bank--${bank.id.toLowerCase()}`;
}

interface ShellProps {
  bank: SandboxBank;
  culture: Culture;
  title: string;
  children: ComponentChildren;
}

function BankShell({ bank, culture, title, children }: ShellProps) {
  const t = (key: ProviderMessageKey) => providerMessage(culture, key, { bank: bank.name });
  return (
    <html lang={languageTag(culture)}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        <title>{title}</title>
        <link rel="stylesheet" href={BANK_STYLESHEET_PATH} />
      </head>
      <body class={`bank ${bankClass(bank)}`}>
        <header class="bank-header">
          <img src={sandboxLogoPath(bank)} alt="" width={40} height={40} />
          <span class="bank-name">{bank.name}</span>
        </header>
        <main class="bank-main">
          <p class="sandbox-notice">{t('sandboxNotice')}</p>
          {children}
        </main>
      </body>
    </html>
  );
}

function ErrorMessage({ message }: { message: string | undefined }) {
  return message === undefined ? null : (
    <p class="bank-error" role="alert" id="form-error">
      {message}
    </p>
  );
}

export interface LoginPageProps {
  bank: SandboxBank;
  culture: Culture;
  handle: string;
  error?: ProviderMessageKey;
  /** Where the form posts; the bank's own login route by default. */
  action?: string;
}

/** The redirect bank's login page (its strong customer authentication). */
export function renderLoginPage({ bank, culture, handle, error, action }: LoginPageProps): string {
  const t = (key: ProviderMessageKey) => providerMessage(culture, key, { bank: bank.name });
  const title = t('loginTitle');
  const described = error === undefined ? undefined : 'form-error';
  return page(
    <BankShell bank={bank} culture={culture} title={title}>
      <h1>{title}</h1>
      <p>{t('bankLoginIntro')}</p>
      <ErrorMessage message={error === undefined ? undefined : t(error)} />
      <form method="post" action={action ?? `/sandbox/banks/${encodeURIComponent(bank.id)}/login`} class="bank-form">
        <input type="hidden" name="request" value={handle} />
        <div class="bank-field">
          <label for="username">{t('username')}</label>
          <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck={false} required aria-describedby={described} />
        </div>
        <div class="bank-field">
          <label for="password">{t('password')}</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            inputMode={bank.numericPassword ? 'numeric' : undefined}
            required
            aria-describedby={described}
          />
        </div>
        <div class="bank-actions">
          <button type="submit" name="action" value="login">
            {t('logIn')}
          </button>
          <button type="submit" name="action" value="cancel" class="secondary" formNoValidate>
            {t('cancel')}
          </button>
        </div>
      </form>
      <p class="bank-small">{t('returnNotice')}</p>
    </BankShell>,
  );
}

export interface AppPageProps {
  bank: SandboxBank;
  culture: Culture;
  handle: string;
  username: string;
  error?: ProviderMessageKey;
  /** Where the form posts; the bank's own app route by default. */
  action?: string;
}

/** The decoupled bank's "phone": approve with a PIN, or reject. */
export function renderAppPage({ bank, culture, handle, username, error, action }: AppPageProps): string {
  const t = (key: ProviderMessageKey) => providerMessage(culture, key, { bank: bank.name, user: username });
  const title = t('appHeading');
  return page(
    <BankShell bank={bank} culture={culture} title={title}>
      <h1>{title}</h1>
      <p class="bank-small">{t('appNotice')}</p>
      <p class="bank-question">{t('appRequest')}</p>
      <ErrorMessage message={error === undefined ? undefined : t(error)} />
      <form method="post" action={action ?? `/sandbox/banks/${encodeURIComponent(bank.id)}/app/${encodeURIComponent(handle)}`} class="bank-form">
        <div class="bank-field">
          <label for="pin">{t('pin')}</label>
          <input
            id="pin"
            name="pin"
            type="password"
            inputMode="numeric"
            autocomplete="off"
            pattern="[0-9]{4,8}"
            required
            aria-describedby={error === undefined ? 'pin-hint' : 'form-error pin-hint'}
          />
          <p class="bank-hint" id="pin-hint">
            {t('pinHint')}
          </p>
        </div>
        <div class="bank-actions">
          <button type="submit" name="action" value="approve">
            {t('approve')}
          </button>
          <button type="submit" name="action" value="reject" class="secondary" formNoValidate>
            {t('reject')}
          </button>
        </div>
      </form>
    </BankShell>,
  );
}

/** The app after the user decided. */
export function renderAppDecidedPage({ bank, culture, status }: { bank: SandboxBank; culture: Culture; status: 'Approved' | 'Rejected' }): string {
  const t = (key: ProviderMessageKey) => providerMessage(culture, key, { bank: bank.name });
  const title = t('appHeading');
  return page(
    <BankShell bank={bank} culture={culture} title={title}>
      <h1>{title}</h1>
      <p class={status === 'Approved' ? 'bank-outcome bank-outcome--ok' : 'bank-outcome'} role="status">
        {t(status === 'Approved' ? 'approvedDone' : 'rejectedDone')}
      </p>
    </BankShell>,
  );
}

/** An unknown, expired or used request. */
export function renderGonePage({ bank, culture }: { bank: SandboxBank; culture: Culture }): string {
  const title = bank.name;
  return page(
    <BankShell bank={bank} culture={culture} title={title}>
      <h1>{title}</h1>
      <p class="bank-outcome">{providerMessage(culture, 'expired')}</p>
    </BankShell>,
  );
}

function page(element: preact.VNode): string {
  return `<!doctype html>${render(element)}`;
}

import { ERROR_PAGE_MESSAGES, type ErrorPageMessages } from '../i18n/error-messages.js';
import type { Culture } from '../providers/types.js';
import { Page, renderPage } from './page.js';

export type ErrorPageKind = keyof Omit<ErrorPageMessages, 'title' | 'whatNow' | 'reference'>;

/** A dead-end-free error page in the user's language: what happened, and what to do now. */
export function renderErrorPage(culture: Culture, kind: ErrorPageKind, requestId: string): string {
  const t = ERROR_PAGE_MESSAGES[culture];
  return renderPage(
    <Page culture={culture} title={t.title}>
      <main class="card" aria-labelledby="error-title">
        <h1 id="error-title">{t.title}</h1>
        <p role="alert">{t[kind]}</p>
        <p>{t.whatNow}</p>
        <p class="muted small">
          {t.reference}: <code>{requestId}</code>
        </p>
      </main>
    </Page>,
  );
}

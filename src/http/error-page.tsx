import { ERROR_PAGE_MESSAGES, type ErrorPageMessages } from '../i18n/error-messages.js';
import type { Culture } from '../providers/types.js';
import { Page, renderPage } from './page.js';

export type ErrorPageKind = keyof Omit<ErrorPageMessages, 'title' | 'whatNow' | 'reference'>;

/** A dead-end-free error page in the user's language: what happened, and what to do now. */
export function renderErrorPage(culture: Culture, kind: ErrorPageKind, requestId: string): string {
  try {
    return renderStyledErrorPage(culture, kind, requestId);
  } catch {
    // The pages' own machinery failed (a broken deployment: the renderer, its JSX runtime, an
    // asset): the same words without it, rather than no page at all.
    return plainErrorPage(culture, kind, requestId);
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The error page as plain HTML text, written without the page renderer. */
export function plainErrorPage(culture: Culture, kind: ErrorPageKind, requestId: string): string {
  const t = ERROR_PAGE_MESSAGES[culture];
  return (
    `<!doctype html><html lang="${escapeHtml(culture.slice(0, 2))}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(t.title)}</title></head>` +
    `<body><main><h1>${escapeHtml(t.title)}</h1><p role="alert">${escapeHtml(t[kind])}</p><p>${escapeHtml(t.whatNow)}</p>` +
    `<p>${escapeHtml(t.reference)}: <code>${escapeHtml(requestId)}</code></p></main></body></html>`
  );
}

function renderStyledErrorPage(culture: Culture, kind: ErrorPageKind, requestId: string): string {
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

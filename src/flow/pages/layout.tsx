import type { ComponentChildren } from 'preact';
import { Page } from '../../http/page.js';
import type { Culture } from '../../providers/types.js';
import type { FlowStep } from '../flow-store.js';
import type { FlowMessages, MessageKey } from '../messages.js';
import { fill } from '../text.js';

/** What every page of one flow is rendered with. */
export interface FlowView {
  culture: Culture;
  t: FlowMessages;
  flowId: string;
  csrf: string;
  app: { name: string; logoUrl: string | null };
  /** The app's brand colour as a stylesheet path (CSP: no inline styles). */
  brandStylesheet: string | null;
  /** The steps this flow shows: the bank step is left out when the app chose the bank. */
  steps: readonly FlowStep[];
  oneTime: boolean;
  termsUrl: string;
  privacyUrl: string;
}

export function flowPath(flowId: string, page: string): string {
  return `/flow/${flowId}/${page}`;
}

const STEP_NAMES: Record<FlowStep, MessageKey> = {
  consent: 'stepConsent',
  signin: 'stepSignIn',
  bank: 'stepBank',
  login: 'stepLogin',
  accounts: 'stepAccounts',
  done: 'stepDone',
};

export interface FlowPageProps {
  view: FlowView;
  /** The step the page belongs to; none for the pages after the flow ended. */
  step?: FlowStep;
  title: string;
  /** Prefixes the document title with "Error:" so screen readers hear it first. */
  hasError?: boolean;
  children: ComponentChildren;
  noscriptRefreshSeconds?: number;
  /** Shown above the title (the done step's check mark). */
  icon?: ComponentChildren;
}

/** The frame of every hosted-flow page: who is asking (the app), where the user is, and Ferry's links. */
export function FlowPage({ view, step, title, hasError, children, noscriptRefreshSeconds, icon }: FlowPageProps) {
  const { t } = view;
  const documentTitle = `${hasError ? `${t.errorTitlePrefix}: ` : ''}${title} – Ferry`;
  return (
    <Page
      culture={view.culture}
      title={documentTitle}
      styles={['/assets/flow.css', ...(view.brandStylesheet !== null ? [view.brandStylesheet] : [])]}
      scripts={['/assets/flow.js']}
      {...(noscriptRefreshSeconds !== undefined ? { noscriptRefreshSeconds } : {})}
    >
      <div class="flow">
        <header class="flow-header">
          <AppIdentity view={view} />
          <span class="flow-secure">
            <LockIcon />
            Ferry
          </span>
        </header>
        <main class="flow-card" id="main">
          {step !== undefined ? <Progress view={view} step={step} /> : null}
          {icon ?? null}
          <h1 id="page-title">{title}</h1>
          {children}
        </main>
        <footer class="flow-footer">
          <p>{t.poweredBy}</p>
          <p>
            <a href={view.termsUrl}>{t.termsLink}</a>
            <span aria-hidden="true"> · </span>
            <a href={view.privacyUrl}>{t.privacyLink}</a>
          </p>
        </footer>
      </div>
    </Page>
  );
}

function AppIdentity({ view }: { view: FlowView }) {
  const initial = [...view.app.name.trim()][0]?.toUpperCase() ?? '?';
  return (
    <span class="flow-app">
      {view.app.logoUrl !== null ? (
        <img class="app-logo" src={view.app.logoUrl} alt="" width={40} height={40} />
      ) : (
        <span class="app-badge" aria-hidden="true">
          {initial}
        </span>
      )}
      <span class="app-name">{view.app.name}</span>
    </span>
  );
}

function Progress({ view, step }: { view: FlowView; step: FlowStep }) {
  const index = view.steps.indexOf(step);
  const { t } = view;
  return (
    <div class="progress">
      <p class="progress-text">
        {fill(t.stepOf, { step: index + 1, total: view.steps.length })}
        <span aria-hidden="true"> · </span>
        {t[STEP_NAMES[step]]}
      </p>
      <ol class="progress-steps" aria-label={t.progressLabel}>
        {view.steps.map((s, i) => (
          <li class={i < index ? 'is-done' : i === index ? 'is-current' : undefined} aria-current={i === index ? 'step' : undefined} key={s}>
            <span class="visually-hidden">{t[STEP_NAMES[s]]}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function CsrfField({ view }: { view: FlowView }) {
  return <input type="hidden" name="_csrf" value={view.csrf} />;
}

/** Cancel is on every step and always goes back to the app (with `error=access_denied`). */
export function CancelForm({ view, label }: { view: FlowView; label?: string }) {
  return (
    <form method="post" action={flowPath(view.flowId, 'cancel')} class="cancel-form">
      <CsrfField view={view} />
      <button type="submit" class="button-link">
        {label ?? fill(view.t.cancelHint, { app: view.app.name })}
      </button>
    </form>
  );
}

/** The error summary (GOV.UK pattern): announced, and each error links to its field. */
export function ErrorSummary({ view, errors }: { view: FlowView; errors: { fieldId: string | null; message: string }[] }) {
  if (errors.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1} data-autofocus="">
      <h2 id="error-summary-title">{view.t.errorSummaryTitle}</h2>
      <ul>
        {errors.map((e) => (
          <li key={e.message}>{e.fieldId !== null ? <a href={`#${e.fieldId}`}>{e.message}</a> : e.message}</li>
        ))}
      </ul>
    </div>
  );
}

export function LockIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M8 1a3.5 3.5 0 0 0-3.5 3.5V6H4a1.5 1.5 0 0 0-1.5 1.5v6A1.5 1.5 0 0 0 4 15h8a1.5 1.5 0 0 0 1.5-1.5v-6A1.5 1.5 0 0 0 12 6h-.5V4.5A3.5 3.5 0 0 0 8 1Zm2 5H6V4.5a2 2 0 1 1 4 0V6Z"
      />
    </svg>
  );
}

export function BankLogo({ src }: { src: string | null }) {
  return src !== null ? <img class="bank-logo" src={src} alt="" width={32} height={32} /> : <span class="bank-logo bank-logo-empty" aria-hidden="true" />;
}

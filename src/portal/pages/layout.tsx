import type { ComponentChildren } from 'preact';
import { Page } from '../../http/page.js';
import type { PortalUser } from '../portal-user.js';

export const PORTAL_STYLESHEET = '/portal/assets/portal.css';

/** What every portal page is rendered with. */
export interface PortalView {
  /** The signed-in developer; null on the sign-in pages. */
  user: PortalUser | null;
  /** This browser's CSRF token, for every form. */
  csrf: string;
}

export interface PortalPageProps {
  view: PortalView;
  title: string;
  /** Prefixes the document title with "Error:" so screen readers hear it first. */
  hasError?: boolean;
  /** A link back up (app pages: the apps list). */
  breadcrumb?: { href: string; label: string };
  children: ComponentChildren;
}

/** The frame of every portal page: Ferry's developer portal, who is signed in, and a way out. */
export function PortalPage({ view, title, hasError, breadcrumb, children }: PortalPageProps) {
  return (
    <Page culture="en" title={`${hasError ? 'Error: ' : ''}${title} – Ferry developer portal`} styles={[PORTAL_STYLESHEET]}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="portal-header">
        <a class="portal-brand" href={view.user !== null ? '/portal/apps' : '/portal'}>
          Ferry <span>developer portal</span>
        </a>
        {view.user !== null ? (
          <div class="portal-account">
            <span>
              <span class="visually-hidden">Signed in as </span>
              {view.user.email}
            </span>
            {view.user.isOperator ? <span class="badge">operator</span> : null}
            <form method="post" action="/portal/sign-out">
              <CsrfField view={view} />
              <button type="submit" class="button-link">
                Sign out
              </button>
            </form>
          </div>
        ) : null}
      </header>
      <main class="portal-main" id="main">
        {breadcrumb !== undefined ? (
          <p class="breadcrumbs">
            <a href={breadcrumb.href}>
              <span aria-hidden="true">← </span>
              {breadcrumb.label}
            </a>
          </p>
        ) : null}
        <h1>{title}</h1>
        {children}
      </main>
      <footer class="portal-footer">
        <p>
          <a href="/docs">API reference</a>
          <span aria-hidden="true"> · </span>
          <a href="/portal/apps">Your apps</a>
        </p>
      </footer>
    </Page>
  );
}

export function CsrfField({ view }: { view: PortalView }) {
  return <input type="hidden" name="_csrf" value={view.csrf} />;
}

export interface FieldError {
  fieldId: string;
  message: string;
}

/** The error summary (GOV.UK pattern): announced first, each error linking to its field. */
export function ErrorSummary({ errors }: { errors: FieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
      <h2 id="error-summary-title">There is a problem</h2>
      <ul>
        {errors.map((e) => (
          <li key={e.fieldId + e.message}>
            <a href={`#${e.fieldId}`}>{e.message}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A success or warning line after a post (post → 303 → get): announced politely. */
export function Notice({ text, tone = 'ok' }: { text: string | null; tone?: 'ok' | 'warn' | 'danger' }) {
  if (text === null) return null;
  return (
    <div class={tone === 'ok' ? 'notice' : `notice notice-${tone}`} role="status">
      <p>{text}</p>
    </div>
  );
}

export interface TextFieldProps {
  id: string;
  name: string;
  label: string;
  hint?: ComponentChildren;
  value?: string;
  error?: string | undefined;
  type?: 'text' | 'email' | 'url';
  autocomplete?: string;
  inputMode?: 'text' | 'numeric' | 'email' | 'url';
  required?: boolean;
  spellcheck?: boolean;
  maxLength?: number;
}

/** A labelled input with its hint and error tied to it (aria-describedby). */
export function TextField(props: TextFieldProps) {
  const describedBy = [props.hint !== undefined ? `${props.id}-hint` : null, props.error !== undefined ? `${props.id}-error` : null].filter((x) => x !== null).join(' ');
  return (
    <div class={props.error !== undefined ? 'field field-error' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.hint !== undefined ? (
        <span class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      {props.error !== undefined ? (
        <span class="error-message" id={`${props.id}-error`}>
          <span class="visually-hidden">Error: </span>
          {props.error}
        </span>
      ) : null}
      <input
        id={props.id}
        name={props.name}
        type={(props.type ?? 'text') as 'text'}
        value={props.value ?? ''}
        autocomplete={props.autocomplete ?? 'off'}
        {...(props.inputMode !== undefined ? { inputMode: props.inputMode } : {})}
        {...(props.required ? { required: true } : {})}
        {...(props.spellcheck === false ? { spellcheck: false } : {})}
        {...(props.maxLength !== undefined ? { maxLength: props.maxLength } : {})}
        {...(describedBy !== '' ? { 'aria-describedby': describedBy } : {})}
        {...(props.error !== undefined ? { 'aria-invalid': 'true' } : {})}
      />
    </div>
  );
}

export function formatTime(ms: number | null): string {
  if (ms === null) return '–';
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

import type { InputHTMLAttributes } from 'preact';
import { fill } from '../../flow/text.js';
import type { AccountMessages } from '../messages.js';
import { CODE_MINUTES } from '../sign-in-state.js';

/** The parts of the sign-in pages shared by the hosted flow's step and /account/sign-in. */
export interface SignInFormProps {
  t: AccountMessages;
  /** Where the form posts (with `intent`). */
  action: string;
  csrf: string;
  email: string;
  error: string | null;
}

function Csrf({ csrf }: { csrf: string }) {
  return <input type="hidden" name="_csrf" value={csrf} />;
}

/** The announced error summary (GOV.UK pattern), linking to the field. */
export function SignInErrorSummary({ title, fieldId, error }: { title: string; fieldId: string; error: string | null }) {
  if (error === null) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1} data-autofocus="">
      <h2 id="error-summary-title">{title}</h2>
      <ul>
        <li>
          <a href={`#${fieldId}`}>{error}</a>
        </li>
      </ul>
    </div>
  );
}

/** Step one: the address a code goes to. */
export function EmailForm({ t, action, csrf, email, error }: SignInFormProps) {
  const attributes = {
    id: 'email',
    name: 'email',
    type: 'email',
    value: email,
    autocomplete: 'email',
    spellcheck: false,
    autocapitalize: 'none',
    required: true,
    maxLength: 254,
    'aria-invalid': error !== null ? 'true' : undefined,
    'aria-describedby': error !== null ? 'email-hint email-error' : 'email-hint',
    autofocus: error === null,
  } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <form method="post" action={action} class="step-form" novalidate>
      <Csrf csrf={csrf} />
      <input type="hidden" name="intent" value="send" />
      <div class={error !== null ? 'field field-invalid' : 'field'}>
        <label for="email">{t.emailLabel}</label>
        <p class="hint" id="email-hint">
          {t.emailHint}
        </p>
        {error !== null ? (
          <p class="field-error" id="email-error">
            {error}
          </p>
        ) : null}
        <input {...attributes} />
      </div>
      <button type="submit" class="button button-primary">
        {t.sendCode}
      </button>
    </form>
  );
}

/** Step two: the code from the mail; a new code, or another address. */
export function CodeForm({ t, action, csrf, email, error, resent }: SignInFormProps & { resent: boolean }) {
  const attributes = {
    id: 'code',
    name: 'code',
    type: 'text',
    inputMode: 'numeric',
    pattern: '[0-9 ]*',
    autocomplete: 'one-time-code',
    maxLength: 12,
    spellcheck: false,
    required: true,
    'aria-invalid': error !== null ? 'true' : undefined,
    'aria-describedby': error !== null ? 'code-error' : undefined,
    autofocus: error === null,
  } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <>
      <p class="lead">{fill(t.codeSent, { email, minutes: CODE_MINUTES })}</p>
      {resent && error === null ? (
        <div class="notice" role="status">
          <p>{t.codeResent}</p>
        </div>
      ) : null}
      <form method="post" action={action} class="step-form" novalidate>
        <Csrf csrf={csrf} />
        <input type="hidden" name="intent" value="verify" />
        <div class={error !== null ? 'field field-invalid' : 'field'}>
          <label for="code">{t.codeLabel}</label>
          {error !== null ? (
            <p class="field-error" id="code-error">
              {error}
            </p>
          ) : null}
          <input {...attributes} />
        </div>
        <button type="submit" class="button button-primary">
          {t.codeSubmit}
        </button>
      </form>
      <div class="secondary-actions">
        <form method="post" action={action}>
          <Csrf csrf={csrf} />
          <input type="hidden" name="intent" value="resend" />
          <button type="submit" class="button-link">
            {t.codeResend}
          </button>
        </form>
        <form method="post" action={action}>
          <Csrf csrf={csrf} />
          <input type="hidden" name="intent" value="change" />
          <button type="submit" class="button-link">
            {t.codeChangeEmail}
          </button>
        </form>
      </div>
    </>
  );
}

/** A browser already signed in: go on as that user, or sign in as someone else. */
export function ContinueForm({ t, action, csrf, email, anotherHref }: { t: AccountMessages; action: string; csrf: string; email: string; anotherHref: string }) {
  return (
    <>
      <p class="lead">{fill(t.continueText, { email })}</p>
      <form method="post" action={action} class="step-form">
        <Csrf csrf={csrf} />
        <input type="hidden" name="intent" value="continue" />
        <button type="submit" class="button button-primary">
          {fill(t.continueAs, { email })}
        </button>
      </form>
      <div class="secondary-actions">
        <a class="button-link" href={anotherHref}>
          {t.useAnother}
        </a>
      </div>
    </>
  );
}

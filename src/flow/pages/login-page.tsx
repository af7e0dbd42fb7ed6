import type { InputHTMLAttributes } from 'preact';
import type { FormField, LoginFailureReason } from '../../providers/types.js';
import type { LoginView } from '../flow-store.js';
import type { MessageKey } from '../messages.js';
import { fill } from '../text.js';
import { CancelForm, CsrfField, ErrorSummary, FlowPage, flowPath, type FlowView } from './layout.js';

export interface LoginPageProps {
  view: FlowView;
  bank: { id: string; name: string; logoUrl: string | null };
  login: LoginView;
  prefill: Record<string, string>;
  /** The app chose the bank (`providerId`): no "choose another bank". */
  bankPreset: boolean;
}

const FAILURE_MESSAGES: Record<LoginFailureReason | 'Error', MessageKey> = {
  InvalidCredentials: 'loginFailedInvalidCredentials',
  AccountLocked: 'loginFailedAccountLocked',
  BankUnavailable: 'loginFailedBankUnavailable',
  RejectedByUser: 'loginFailedRejectedByUser',
  Timeout: 'loginFailedTimeout',
  Cancelled: 'loginFailedCancelled',
  Error: 'loginFailedError',
};

export function failureMessage(view: FlowView, reason: LoginFailureReason | 'Error', bank: string): string {
  return fill(view.t[FAILURE_MESSAGES[reason]], { bank, app: view.app.name });
}

/** What the failure page says: the bank's own explanation when it gave one, Ferry's otherwise. */
function failureText(view: FlowView, login: Extract<LoginView, { kind: 'failed' }>, bank: string): string {
  return login.message.trim() !== '' ? login.message : failureMessage(view, login.reason, bank);
}

/** Step 3: whatever the bank's login asks for next: a form, a trip to the bank, waiting for approval, or a failure. */
export function LoginPage(props: LoginPageProps) {
  switch (props.login.kind) {
    case 'form':
      return <LoginFormView {...props} login={props.login} />;
    case 'redirect':
      return <RedirectView {...props} login={props.login} />;
    case 'poll':
      return <PollView {...props} login={props.login} />;
    case 'failed':
      return <FailedView {...props} login={props.login} />;
  }
}

function fieldId(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function LoginFormView({ view, bank, login, prefill, bankPreset }: LoginPageProps & { login: Extract<LoginView, { kind: 'form' }> }) {
  const { t } = view;
  const error = login.error;
  // The bank's own words (it knows whether the password or the code was wrong), in the user's language.
  const errorMessage = error === undefined ? null : error.message.trim() !== '' ? error.message : failureMessage(view, error.reason ?? 'InvalidCredentials', bank.name);
  const errorField = error?.field !== undefined && login.fields.some((f) => f.name === error.field) ? error.field : null;
  const firstField = login.fields[0]?.name;
  return (
    <FlowPage view={view} step="login" icon={<BankMark bank={bank} />} title={login.title.trim() !== '' ? login.title : fill(t.loginTitle, { bank: bank.name })} hasError={error !== undefined}>
      {errorMessage !== null ? <ErrorSummary view={view} errors={[{ fieldId: fieldId(errorField ?? firstField ?? 'form'), message: errorMessage }]} /> : null}
      <form method="post" action={flowPath(view.flowId, 'login')} class="step-form" novalidate>
        <CsrfField view={view} />
        {login.fields.map((field, index) => (
          <LoginField
            field={field}
            value={prefill[field.name] ?? ''}
            error={errorMessage !== null && (errorField === field.name || (errorField === null && index === 0)) ? errorMessage : null}
            autofocus={errorMessage !== null ? (errorField ?? firstField) === field.name : index === 0}
            key={field.name}
          />
        ))}
        <button type="submit" class="button button-primary">
          {login.fields.some((f) => f.type === 'password') ? t.loginSubmit : t.loginContinue}
        </button>
      </form>
      <p class="small muted note">{fill(t.loginPrivacyNote, { bank: bank.name })}</p>
      <SecondaryActions view={view} bankPreset={bankPreset} />
    </FlowPage>
  );
}

function LoginField({ field, value, error, autofocus }: { field: FormField; value: string; error: string | null; autofocus: boolean }) {
  const id = fieldId(field.name);
  const describedBy = [field.hint !== undefined ? `${id}-hint` : null, error !== null ? `${id}-error` : null].filter((x) => x !== null).join(' ');
  const numeric = field.inputMode === 'numeric' || field.type === 'otp';
  // One object, as preact's input types tie `type` to the attributes each type allows.
  const inputAttributes = {
    id,
    name: field.name,
    type: field.type === 'password' ? 'password' : 'text',
    value: field.type === 'text' ? value : '',
    autocomplete: field.autocomplete ?? (field.type === 'otp' ? 'one-time-code' : field.type === 'password' ? 'current-password' : 'username'),
    inputmode: numeric ? 'numeric' : undefined,
    spellcheck: false,
    autocapitalize: 'none',
    required: true,
    'aria-invalid': error !== null ? 'true' : undefined,
    'aria-describedby': describedBy !== '' ? describedBy : undefined,
    autofocus,
  } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <div class={error !== null ? 'field field-invalid' : 'field'}>
      <label for={id}>{field.label}</label>
      {field.hint !== undefined ? (
        <p class="hint" id={`${id}-hint`}>
          {field.hint}
        </p>
      ) : null}
      {error !== null ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
      <input {...inputAttributes} />
    </div>
  );
}

function RedirectView({ view, bank, login, bankPreset }: LoginPageProps & { login: Extract<LoginView, { kind: 'redirect' }> }) {
  const { t } = view;
  return (
    <FlowPage view={view} step="login" icon={<BankMark bank={bank} />} title={fill(t.loginRedirectTitle, { bank: bank.name })}>
      <p>{fill(t.loginRedirectText, { bank: bank.name })}</p>
      <p class="step-form">
        <a class="button button-primary" href={login.url}>
          {fill(t.loginRedirectButton, { bank: bank.name })}
        </a>
      </p>
      <SecondaryActions view={view} bankPreset={bankPreset} />
    </FlowPage>
  );
}

function PollView({ view, bank, login, bankPreset }: LoginPageProps & { login: Extract<LoginView, { kind: 'poll' }> }) {
  const { t } = view;
  const seconds = Math.max(2, Math.ceil(login.pollAfterMs / 1000));
  return (
    <FlowPage view={view} step="login" icon={<BankMark bank={bank} />} title={fill(t.loginPollTitle, { bank: bank.name })} noscriptRefreshSeconds={seconds}>
      <p>{login.message}</p>
      <div class="waiting" data-poll={flowPath(view.flowId, 'login/status')} data-poll-after={String(login.pollAfterMs)}>
        <span class="spinner" aria-hidden="true" />
        <p role="status">{t.loginPollWaiting}</p>
      </div>
      <noscript>
        <p class="small muted">{t.loginPollNoScript}</p>
      </noscript>
      {login.approveUrl !== undefined ? (
        <p>
          <a href={login.approveUrl} target="_blank" rel="noopener noreferrer">
            {fill(t.loginPollOpenApp, { bank: bank.name })} <span class="visually-hidden">{t.opensNewTab}</span>
          </a>
        </p>
      ) : null}
      <form method="get" action={flowPath(view.flowId, 'login')} class="step-form">
        <input type="hidden" name="check" value="1" />
        <button type="submit" class="button button-secondary">
          {t.loginPollCheck}
        </button>
      </form>
      <SecondaryActions view={view} bankPreset={bankPreset} />
    </FlowPage>
  );
}

function FailedView({ view, bank, login, bankPreset }: LoginPageProps & { login: Extract<LoginView, { kind: 'failed' }> }) {
  const { t } = view;
  return (
    <FlowPage view={view} step="login" icon={<BankMark bank={bank} />} title={fill(t.loginFailedTitle, { bank: bank.name })} hasError>
      <div class="notice notice-error" role="alert">
        <p>{failureText(view, login, bank.name)}</p>
      </div>
      <div class="action-stack">
        {login.retryable ? (
          <form method="post" action={flowPath(view.flowId, 'login/retry')}>
            <CsrfField view={view} />
            <button type="submit" class="button button-primary">
              {t.loginTryAgain}
            </button>
          </form>
        ) : null}
        {!bankPreset ? (
          <form method="post" action={flowPath(view.flowId, 'bank/change')}>
            <CsrfField view={view} />
            <button type="submit" class={login.retryable ? 'button button-secondary' : 'button button-primary'}>
              {t.loginChooseAnother}
            </button>
          </form>
        ) : null}
        <form method="post" action={flowPath(view.flowId, 'cancel')}>
          <CsrfField view={view} />
          <button type="submit" class="button button-secondary">
            {fill(t.backToApp, { app: view.app.name })}
          </button>
        </form>
      </div>
    </FlowPage>
  );
}

/** The bank's logo above the title: the user sees at a glance whose login this is. */
function BankMark({ bank }: { bank: LoginPageProps['bank'] }) {
  return bank.logoUrl !== null ? <img class="bank-mark" src={bank.logoUrl} alt="" width={48} height={48} /> : null;
}

function SecondaryActions({ view, bankPreset }: { view: FlowView; bankPreset: boolean }) {
  return (
    <div class="secondary-actions">
      {!bankPreset ? (
        <form method="post" action={flowPath(view.flowId, 'bank/change')}>
          <CsrfField view={view} />
          <button type="submit" class="button-link">
            {view.t.loginChooseAnother}
          </button>
        </form>
      ) : null}
      <CancelForm view={view} />
    </div>
  );
}

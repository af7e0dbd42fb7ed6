import { CsrfField, ErrorSummary, PortalPage, TextField, type FieldError, type PortalView } from './layout.js';

export interface SignInPageProps {
  view: PortalView;
  signup: 'open' | 'closed';
  email?: string;
  error?: string;
  next: string | null;
  notice?: string | null;
}

/** Step 1: the address a code goes to. One page for sign-up and sign-in: the code decides. */
export function SignInPage({ view, signup, email, error, next, notice }: SignInPageProps) {
  const errors: FieldError[] = error !== undefined ? [{ fieldId: 'email', message: error }] : [];
  return (
    <PortalPage view={view} title="Sign in to the developer portal" hasError={errors.length > 0}>
      <ErrorSummary errors={errors} />
      {notice ? (
        <div class="notice" role="status">
          <p>{notice}</p>
        </div>
      ) : null}
      <p>Register the apps that connect to this Ferry, get their client credentials, and try a first connection with the sandbox banks.</p>
      <p>
        {signup === 'open'
          ? 'New here? Enter your email address: the code we send you creates your account.'
          : 'This Ferry’s portal is by invitation: sign in with the address its operator invited.'}
      </p>
      <form method="post" action="/portal/sign-in" novalidate>
        <CsrfField view={view} />
        {next !== null ? <input type="hidden" name="next" value={next} /> : null}
        <TextField id="email" name="email" label="Email address" type="email" autocomplete="email" inputMode="email" spellcheck={false} value={email ?? ''} error={error} maxLength={254} />
        <button type="submit">Send me a code</button>
      </form>
    </PortalPage>
  );
}

export interface CodePageProps {
  view: PortalView;
  email: string;
  next: string | null;
  error?: string;
  /** The sandbox mailbox when no mail server is configured. */
  mailboxUrl: string | null;
}

/** Step 2: the 6-digit code from the email. */
export function CodePage({ view, email, next, error, mailboxUrl }: CodePageProps) {
  const errors: FieldError[] = error !== undefined ? [{ fieldId: 'code', message: error }] : [];
  return (
    <PortalPage view={view} title="Enter the code we emailed you" hasError={errors.length > 0}>
      <ErrorSummary errors={errors} />
      <p>
        We sent a 6-digit code to <strong>{email}</strong>. It works once, for 10 minutes.
      </p>
      {mailboxUrl !== null ? (
        <div class="notice notice-warn">
          <p>
            This Ferry has no mail server configured, so it keeps its mail in the sandbox mailbox:{' '}
            <a href={mailboxUrl}>open the sandbox mailbox</a> to read your code.
          </p>
        </div>
      ) : null}
      <form method="post" action="/portal/sign-in/code" novalidate>
        <CsrfField view={view} />
        {next !== null ? <input type="hidden" name="next" value={next} /> : null}
        <TextField id="code" name="code" label="Code" hint="6 digits, e.g. 123456" inputMode="numeric" autocomplete="one-time-code" spellcheck={false} error={error} maxLength={12} />
        <button type="submit">Sign in</button>
      </form>
      <form method="post" action="/portal/sign-in" class="actions">
        <CsrfField view={view} />
        <input type="hidden" name="email" value={email} />
        {next !== null ? <input type="hidden" name="next" value={next} /> : null}
        <button type="submit" class="secondary">
          Send a new code
        </button>
      </form>
      <p>
        <a href="/portal/sign-in">Use another email address</a>
      </p>
    </PortalPage>
  );
}

export function ExpiredFormPage({ view }: { view: PortalView }) {
  return (
    <PortalPage view={view} title="This form has expired">
      <p role="alert">For your security the form was not sent: it came from a page this browser no longer recognises, or cookies are off.</p>
      <p>Go back, reload the page, and send it again. The portal needs cookies to keep you signed in.</p>
      <p>
        <a href="/portal">Go to the developer portal</a>
      </p>
    </PortalPage>
  );
}

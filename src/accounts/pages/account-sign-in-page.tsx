import { fill } from '../../flow/text.js';
import { FLOW_MESSAGES } from '../../flow/messages.js';
import { CodeForm, ContinueForm, EmailForm, SignInErrorSummary } from './sign-in-forms.js';
import { AccountPage, Notice, type AccountView } from './account-layout.js';

export type AccountSignInView =
  | { kind: 'email'; email: string; error: string | null }
  | { kind: 'code'; email: string; error: string | null; resent: boolean };

/** /account/sign-in: the same two steps as the hosted flow's; when claiming, it says what signing in is for. */
export function AccountSignInPage({ view, state, notice, claim }: { view: AccountView; state: AccountSignInView; notice: string | null; claim: { app: string; backHref: string } | null }) {
  const { t } = view;
  const title = state.kind === 'code' ? t.codeTitle : claim !== null ? t.claimTitle : t.accountSignInTitle;
  return (
    <AccountPage view={view} title={title} hasError={state.error !== null}>
      <SignInErrorSummary title={FLOW_MESSAGES[view.culture].errorSummaryTitle} fieldId={state.kind === 'code' ? 'code' : 'email'} error={state.error} />
      {notice !== null ? <Notice text={notice} /> : null}
      {state.kind === 'email' ? (
        <>
          <p class="lead">{claim !== null ? fill(t.claimIntro, { app: claim.app }) : t.accountSignInIntro}</p>
          <EmailForm t={t} action="/account/sign-in" csrf={view.csrf} email={state.email} error={state.error} />
        </>
      ) : (
        <CodeForm t={t} action="/account/sign-in" csrf={view.csrf} email={state.email} error={state.error} resent={state.resent} />
      )}
      {claim !== null ? (
        <div class="secondary-actions">
          <a class="button-link" href={claim.backHref}>
            {t.goBack}
          </a>
        </div>
      ) : null}
    </AccountPage>
  );
}

/** Claiming while signed in: keep it in this account, or sign in as someone else. */
export function ClaimConfirmPage({ view, app, backHref }: { view: AccountView; app: string; backHref: string }) {
  const { t } = view;
  return (
    <AccountPage view={view} title={t.claimTitle}>
      <p class="lead">{fill(t.claimKeepText, { app })}</p>
      <ContinueForm t={{ ...t, continueAs: t.claimKeepAs }} action="/account/claim" csrf={view.csrf} email={view.email ?? ''} anotherHref="/account/sign-in?another=1" />
      <div class="secondary-actions">
        <a class="button-link" href={backHref}>
          {t.goBack}
        </a>
      </div>
    </AccountPage>
  );
}

/** A claim link that is unknown, used, or for a flow that went on: say so; the app is where to go. */
export function ClaimInvalidPage({ view }: { view: AccountView }) {
  const { t } = view;
  return (
    <AccountPage view={view} title={t.claimInvalidTitle}>
      <Notice text={t.claimInvalidText} tone="warning" />
    </AccountPage>
  );
}

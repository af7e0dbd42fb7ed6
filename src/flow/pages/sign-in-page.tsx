import { CodeForm, ContinueForm, EmailForm, SignInErrorSummary } from '../../accounts/pages/sign-in-forms.js';
import type { AccountMessages } from '../../accounts/messages.js';
import { fill } from '../text.js';
import { CancelForm, FlowPage, flowPath, type FlowView } from './layout.js';

export type SignInView =
  | { kind: 'email'; email: string; error: string | null }
  | { kind: 'code'; email: string; error: string | null; resent: boolean }
  | { kind: 'continue'; email: string };

/** The regular flow's account step: email, then the code sent to it; or "Continue as …" for a browser already signed in. */
export function SignInPage({ view, a, state }: { view: FlowView; a: AccountMessages; state: SignInView }) {
  const action = flowPath(view.flowId, 'signin');
  const error = state.kind === 'continue' ? null : state.error;
  const title = state.kind === 'code' ? a.codeTitle : state.kind === 'continue' ? a.continueTitle : a.flowSignInTitle;
  return (
    <FlowPage view={view} step="signin" title={title} hasError={error !== null}>
      <SignInErrorSummary title={view.t.errorSummaryTitle} fieldId={state.kind === 'code' ? 'code' : 'email'} error={error} />
      {state.kind === 'email' ? (
        <>
          <p class="lead">{fill(a.flowSignInIntro, { app: view.app.name })}</p>
          <EmailForm t={a} action={action} csrf={view.csrf} email={state.email} error={state.error} />
        </>
      ) : state.kind === 'code' ? (
        <CodeForm t={a} action={action} csrf={view.csrf} email={state.email} error={state.error} resent={state.resent} />
      ) : (
        <ContinueForm t={a} action={action} csrf={view.csrf} email={state.email} anotherHref={`${action}?another=1`} />
      )}
      <CancelForm view={view} />
    </FlowPage>
  );
}

import type { AccountMessages } from '../../accounts/messages.js';
import { fill } from '../text.js';
import { CsrfField, FlowPage, flowPath, type FlowView } from './layout.js';

/** Step 5 after claiming: the connection is kept in the user's Ferry account; Accept still returns the code to the app. */
export function ClaimedPage({ view, a, email }: { view: FlowView; a: AccountMessages; email: string }) {
  const app = view.app.name;
  return (
    <FlowPage view={view} step="done" title={a.claimedTitle}>
      <div class="notice" role="status">
        <p>{fill(a.claimedText, { email, app })}</p>
      </div>
      <form method="post" action={flowPath(view.flowId, 'done')} class="step-form">
        <CsrfField view={view} />
        <button type="submit" class="button button-primary">
          {fill(a.claimedContinue, { app })}
        </button>
      </form>
      <p class="secondary-actions">
        <a class="button-link" href="/account">
          {a.connectionsTitle}
        </a>
      </p>
    </FlowPage>
  );
}

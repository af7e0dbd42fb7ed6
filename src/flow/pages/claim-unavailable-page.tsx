import { fill } from '../text.js';
import { CsrfField, FlowPage, flowPath, type FlowView } from './layout.js';

/** "Keep this connection" on a Ferry without account pages yet: say so, and offer Accept. */
export function ClaimUnavailablePage({ view }: { view: FlowView }) {
  const { t } = view;
  return (
    <FlowPage view={view} step="done" title={t.claimUnavailableTitle}>
      <div class="notice">
        <p>{fill(t.claimUnavailable, { app: view.app.name })}</p>
      </div>
      <form method="post" action={flowPath(view.flowId, 'done')} class="step-form">
        <CsrfField view={view} />
        <button type="submit" class="button button-primary" autofocus>
          {t.doneAccept}
        </button>
      </form>
    </FlowPage>
  );
}

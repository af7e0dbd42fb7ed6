import { formatDateTime } from '../format.js';
import { pluralMessage } from '../messages.js';
import { fill, fillNodes } from '../text.js';
import { CancelForm, CsrfField, FlowPage, flowPath, type FlowView } from './layout.js';

export interface DonePageProps {
  view: FlowView;
  bankName: string;
  accounts: { name: string; number: string | null }[];
  /** One-time flow: when the consent's data will be gone. */
  deleteAt: number | null;
}

/** Step 5 (seed page): success; Accept sends the user back to the app; the one-time flow offers to claim. */
export function DonePage({ view, bankName, accounts, deleteAt }: DonePageProps) {
  const { t } = view;
  const app = view.app.name;
  return (
    <FlowPage view={view} step="done" title={t.doneTitle} icon={<SuccessMark />}>
      <p class="lead">{fill(pluralMessage(view.culture, 'doneShared', accounts.length), { count: accounts.length, bank: bankName, app })}</p>
      {accounts.length > 0 ? (
        <ul class="shared-accounts">
          {accounts.map((account, i) => (
            <li key={`${i}-${account.name}`}>
              <span class="account-name">{account.name}</span>
              {account.number !== null ? (
                <span class="account-number">
                  <span class="visually-hidden">{t.accountsNumberEnding} </span>
                  <span aria-hidden="true">•••• </span>
                  {account.number.replace(/^•+\s*/, '')}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {deleteAt !== null ? (
        <p>
          {fillNodes(t.doneDeletedBy, {
            time: (
              <time datetime={new Date(deleteAt).toISOString()} data-local="">
                {formatDateTime(view.culture, deleteAt)}
              </time>
            ),
          })}
        </p>
      ) : null}
      <form method="post" action={flowPath(view.flowId, 'done')} class="step-form">
        <CsrfField view={view} />
        <p>{fill(t.doneAcceptHint, { app })}</p>
        <button type="submit" class="button button-primary">
          {t.doneAccept}
        </button>
      </form>
      {view.oneTime ? (
        <section class="panel claim" aria-labelledby="claim-heading">
          <h2 id="claim-heading">{t.claimHeading}</h2>
          <p>{t.claimText}</p>
          <form method="post" action={flowPath(view.flowId, 'claim')}>
            <CsrfField view={view} />
            <button type="submit" class="button button-secondary">
              {t.claimButton}
            </button>
          </form>
        </section>
      ) : null}
      <CancelForm view={view} />
    </FlowPage>
  );
}

function SuccessMark() {
  return (
    <div class="success-mark" aria-hidden="true">
      <svg viewBox="0 0 48 48" width="56" height="56" focusable="false">
        <circle cx="24" cy="24" r="22" fill="currentColor" />
        <path d="M14 24.5l6.5 6.5L34 17.5" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round" />
      </svg>
    </div>
  );
}

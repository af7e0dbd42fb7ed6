import { formatDateTime, formatNumber } from '../format.js';
import { fill, fillNodes } from '../text.js';
import { CancelForm, CsrfField, FlowPage, flowPath, type FlowView } from './layout.js';

export interface ConsentPageProps {
  view: FlowView;
  /** One-time flow: how long the data lives, and when it would be gone if the user connects now. */
  retentionHours: number;
  deleteByIfNow: number;
}

/** Step 1 (seed page): who asks, what is shared, with whom, for how long; Ferry's terms; accept or cancel. */
export function ConsentPage({ view, retentionHours, deleteByIfNow }: ConsentPageProps) {
  const { t, app } = view;
  const name = app.name;
  return (
    <FlowPage view={view} step="consent" title={fill(t.consentTitle, { app: name })}>
      <p class="lead">{fill(t.consentIntro, { app: name })}</p>

      <section aria-labelledby="what-heading" class="panel">
        <h2 id="what-heading">{fill(t.consentWhatHeading, { app: name })}</h2>
        <ul class="checklist">
          <li>{t.consentAccounts}</li>
          <li>{t.consentBalances}</li>
          <li>{t.consentTransactions}</li>
        </ul>
        <p class="small muted">{t.consentReadOnly}</p>
      </section>

      <section aria-labelledby="duration-heading" class="panel">
        <h2 id="duration-heading">{t.consentDurationHeading}</h2>
        {view.oneTime ? (
          <>
            <p>{fill(t.consentOneTime, { hours: formatNumber(view.culture, retentionHours) })}</p>
            <p>
              {fillNodes(t.consentOneTimeBy, {
                time: (
                  <time datetime={new Date(deleteByIfNow).toISOString()} data-local="">
                    {formatDateTime(view.culture, deleteByIfNow)}
                  </time>
                ),
              })}
            </p>
          </>
        ) : (
          <p>{fill(t.consentOngoing, { app: name })}</p>
        )}
      </section>

      <form method="post" action={flowPath(view.flowId, 'consent')} class="step-form">
        <CsrfField view={view} />
        <p class="small">
          {fillNodes(t.consentLegal, {
            terms: <a href={view.termsUrl}>{t.consentTermsText}</a>,
            privacy: <a href={view.privacyUrl}>{t.consentPrivacyText}</a>,
          })}
        </p>
        <button type="submit" class="button button-primary">
          {t.consentAccept}
        </button>
      </form>
      <CancelForm view={view} />
    </FlowPage>
  );
}

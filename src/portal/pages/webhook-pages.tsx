import type { App } from '../../apps/apps.js';
import type { DeliveryView } from '../../webhooks/deliveries.js';
import type { Reveal } from '../reveal.js';
import { AppFrame, appPath } from './app-pages.js';
import { CsrfField, ErrorSummary, formatTime, Notice, TextField, type FieldError, type PortalView } from './layout.js';

export interface WebhooksPageProps {
  view: PortalView;
  app: App;
  hasSecret: boolean;
  deliveries: DeliveryView[];
  reveal: Reveal | null;
  notice: string | null;
  form?: { url: string; secret: string };
  errors?: FieldError[];
}

export function WebhooksPage({ view, app, hasSecret, deliveries, reveal, notice, form, errors = [] }: WebhooksPageProps) {
  const urlError = errors.find((e) => e.fieldId === 'url')?.message;
  const secretChoice = form?.secret ?? (hasSecret ? 'keep' : 'new');
  return (
    <AppFrame view={view} app={app} tab="webhooks" title={`Webhooks of ${app.name}`} hasError={errors.length > 0}>
      <ErrorSummary errors={errors} />
      <Notice text={notice} />
      {reveal !== null ? (
        <section class="secret-box" aria-labelledby="secret-title">
          <h2 id="secret-title">Your new webhook signing secret</h2>
          <code class="secret" id="webhook-secret">
            {reveal.secret}
          </code>
          <p>
            <strong>Copy it now: it is shown only this once.</strong> Check <code>X-Aiia-Signature</code> on every webhook with it: lowercase hex HMAC-SHA256 of{' '}
            <code>{'{X-Aiia-TimeStamp}|{X-Aiia-EventId}|{X-Aiia-Event}|{body}'}</code> (<code>verifyWebhook</code> in @ferry/client does it).
          </p>
        </section>
      ) : null}
      <p>
        Ferry tells your app that data is ready, changed, revoked or deleted by posting to this URL (SyncDone, AccountsUpdated, ConsentRevoked, DataDeleted, …), signed with
        your secret, and retries with backoff until your server answers 2xx.
      </p>
      <section aria-labelledby="endpoint-title">
        <h2 id="endpoint-title">Endpoint</h2>
        <form method="post" action={appPath(app.id, '/webhooks')} novalidate>
          <CsrfField view={view} />
          <TextField
            id="url"
            name="url"
            label="Webhook URL"
            type="url"
            inputMode="url"
            spellcheck={false}
            hint="https (http only for localhost while testing)."
            value={form?.url ?? app.webhookUrl ?? ''}
            error={urlError}
            maxLength={2000}
          />
          <fieldset class="field radios">
            <legend>Signing secret</legend>
            {hasSecret ? (
              <label>
                <input type="radio" name="secret" value="keep" checked={secretChoice === 'keep'} />
                Keep the current secret
              </label>
            ) : null}
            <label>
              <input type="radio" name="secret" value="new" checked={secretChoice === 'new'} />
              {hasSecret ? 'Rotate: make a new secret (shown once; the current one stops at once)' : 'Make a secret (shown once)'}
            </label>
            <label>
              <input type="radio" name="secret" value="none" checked={secretChoice === 'none'} />
              Do not sign
            </label>
          </fieldset>
          <button type="submit">Save webhook</button>
        </form>
        {app.webhookUrl !== null ? (
          <form method="post" action={appPath(app.id, '/webhooks/remove')} class="actions">
            <CsrfField view={view} />
            <button type="submit" class="secondary">
              Remove the webhook
            </button>
          </form>
        ) : null}
      </section>
      <section aria-labelledby="test-title">
        <h2 id="test-title">Send a test event</h2>
        {app.webhookUrl !== null ? (
          <form method="post" action={appPath(app.id, '/webhooks/test')}>
            <CsrfField view={view} />
            <p>
              Ferry posts a <code>WebhookTest</code> event to <code>{app.webhookUrl}</code>, signed like any other: <code>{'{ "webhookTestWebhook": { "consentId": null, "event": "WebhookTest", "data": { "message", "sentAt" } } }'}</code>.
            </p>
            <button type="submit">Send a test event</button>
          </form>
        ) : (
          <p>Save a webhook URL first.</p>
        )}
      </section>
      <section aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Recent deliveries</h2>
        {deliveries.length === 0 ? (
          <p>No deliveries yet.</p>
        ) : (
          <>
            <p>
              Newest first. A delivery is tried at once and retried with backoff.{' '}
              <a href={appPath(app.id, '/webhooks')}>Refresh</a> to see the latest.
            </p>
            <div class="table-wrap">
              <table class="records">
                <caption class="visually-hidden">Recent webhook deliveries</caption>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last response</th>
                    <th scope="col">Time</th>
                    <th scope="col">
                      <span class="visually-hidden">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {deliveries.map((d) => (
                    <tr key={d.id}>
                      <td data-label="Event">
                        {d.event}
                        {d.redeliveryOf !== null ? <span class="small muted"> (redelivery)</span> : null}
                      </td>
                      <td data-label="Status">
                        <span class={`status ${d.status === 'Delivered' ? 'status-ok' : d.status === 'Failed' ? 'status-bad' : 'status-wait'}`}>{d.status}</span>
                      </td>
                      <td data-label="Attempts">
                        {d.attempts} of {d.maxAttempts}
                      </td>
                      <td data-label="Last response">{d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.lastError !== null ? d.lastError : '–'}</td>
                      <td data-label="Time">
                        {formatTime(Date.parse(d.createdAt))}
                        {d.status === 'Pending' && d.nextAttemptAt !== null ? <span class="small muted"> · next try {formatTime(Date.parse(d.nextAttemptAt))}</span> : null}
                      </td>
                      <td data-label="Action">
                        <form method="post" action={appPath(app.id, `/webhooks/deliveries/${encodeURIComponent(d.id)}/redeliver`)}>
                          <CsrfField view={view} />
                          <button type="submit" class="secondary small" aria-label={`${d.status === 'Pending' ? 'Send now' : 'Redeliver'}: ${d.event} of ${formatTime(Date.parse(d.createdAt))}`}>
                            {d.status === 'Pending' ? 'Send now' : 'Redeliver'}
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </AppFrame>
  );
}

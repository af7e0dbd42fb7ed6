import type { App } from '../../apps/apps.js';
import type { ConsentListItem, ReceiptListItem } from '../consent-access.js';
import { AppFrame, appPath } from './app-pages.js';
import { CsrfField, formatTime, Notice, type PortalView } from './layout.js';

const time = (iso: string | null) => (iso === null ? '–' : formatTime(Date.parse(iso)));

export function ConsentsPage({ view, app, consents, receipts, notice }: { view: PortalView; app: App; consents: ConsentListItem[]; receipts: ReceiptListItem[]; notice: string | null }) {
  return (
    <AppFrame view={view} app={app} tab="consents" title={`Consents of ${app.name}`}>
      <Notice text={notice} />
      <p>
        Every connection a user made to your app is a consent (its <code>consentId</code> came back with the code). A one-time consent is erased at its deadline; revoking one
        erases its data at once and sends your app <code>ConsentRevoked</code> and <code>DataDeleted</code> webhooks, as <code>DELETE /v1/consents/&#123;id&#125;</code> does.
      </p>
      <section aria-labelledby="live-title">
        <h2 id="live-title">Consents</h2>
        {consents.length === 0 ? (
          <p>No consents yet: connect through the quick start’s URL to make one.</p>
        ) : (
          <div class="table-wrap">
            <table class="records">
              <caption class="visually-hidden">Consents, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Consent id</th>
                  <th scope="col">Status</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Created</th>
                  <th scope="col">Deadline or expiry</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {consents.map((c) => (
                  <tr key={c.consentId}>
                    <td data-label="Consent id">
                      <code id={`consent-${c.consentId}`}>{c.consentId}</code>
                    </td>
                    <td data-label="Status">
                      <span class={`status ${c.status === 'Active' ? 'status-ok' : 'status-bad'}`}>{c.status}</span>
                      {c.needsLogin ? <span class="small"> · the user must log in at the bank again</span> : null}
                    </td>
                    <td data-label="Kind">{c.oneTime ? 'One-time' : 'Regular'}</td>
                    <td data-label="Created">{time(c.createdAt)}</td>
                    <td data-label="Deadline or expiry">{c.oneTime ? `Erased by ${time(c.deleteAt)}` : 'Until revoked (the bank’s consent renews with the user)'}</td>
                    <td data-label="Action">
                      {c.status === 'Active' || c.status === 'Expired' ? (
                        <form method="post" action={appPath(app.id, `/consents/${encodeURIComponent(c.consentId)}/revoke`)}>
                          <CsrfField view={view} />
                          <button type="submit" class="danger small" aria-describedby={`consent-${c.consentId}`}>
                            Revoke and erase
                          </button>
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="receipts-title">
        <h2 id="receipts-title">Deletion receipts</h2>
        {receipts.length === 0 ? (
          <p>No consent of this app has been erased yet.</p>
        ) : (
          <>
            <p>What remains of an erased consent: when and why, and how many rows went. No personal data.</p>
            <div class="table-wrap">
              <table class="records">
                <caption class="visually-hidden">Deletion receipts, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Consent id</th>
                    <th scope="col">Erased</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Deadline</th>
                    <th scope="col">Rows erased</th>
                  </tr>
                </thead>
                <tbody>
                  {receipts.map((r) => (
                    <tr key={r.consentId}>
                      <td data-label="Consent id">
                        <code>{r.consentId}</code>
                      </td>
                      <td data-label="Erased">{time(r.receipt.erasedAt)}</td>
                      <td data-label="Reason">{r.receipt.reason === 'ConsentRevoked' ? 'Revoked' : 'One-time deadline'}</td>
                      <td data-label="Deadline">{time(r.receipt.deadline)}</td>
                      <td data-label="Rows erased">
                        {Object.entries(r.receipt.rowCounts)
                          .filter(([, n]) => n > 0)
                          .map(([table, n]) => `${n} ${table.replace(/_/g, ' ')}`)
                          .join(', ') || 'none'}
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

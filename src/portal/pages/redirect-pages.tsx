import type { App } from '../../apps/apps.js';
import type { RefusedRedirect, TryResult } from '../redirect-messages.js';
import { AppFrame, appPath } from './app-pages.js';
import { CsrfField, ErrorSummary, Notice, TextField, type FieldError, type PortalView } from './layout.js';

export interface RedirectsPageProps {
  view: PortalView;
  app: App;
  notice: string | null;
  /** The URL just refused, and why. */
  refused?: { uri: string; why: RefusedRedirect } | undefined;
  removeError?: string | undefined;
  tried?: { uri: string; result: TryResult } | undefined;
}

export function RedirectsPage({ view, app, notice, refused, removeError, tried }: RedirectsPageProps) {
  const errors: FieldError[] = [];
  if (refused !== undefined) errors.push({ fieldId: 'uri', message: refused.why.headline });
  if (removeError !== undefined) errors.push({ fieldId: 'registered', message: removeError });
  const only = app.redirectUris.length === 1;
  return (
    <AppFrame view={view} app={app} tab="redirects" title={`Redirect URLs of ${app.name}`} hasError={errors.length > 0}>
      <ErrorSummary errors={errors} />
      <Notice text={notice} />
      <p>
        A connect request’s <code>redirect_uri</code> must equal one of these exactly, or match one with a <code>*</code> in its path: <code>https://budget.example.com/callback/*</code>{' '}
        matches <code>https://budget.example.com/callback/tenant/42</code>. A <code>*</code> is refused in the scheme, host, subdomain, port, query and fragment.
      </p>
      <section aria-labelledby="registered">
        <h2 id="registered" tabindex={-1}>
          Registered
        </h2>
        <ul class="uri-list">
          {app.redirectUris.map((uri, i) => (
            <li key={uri}>
              <code id={`uri-${i}`}>{uri}</code>
              {only ? (
                <span class="small muted">An app keeps at least one.</span>
              ) : (
                <form method="post" action={appPath(app.id, '/redirects/remove')}>
                  <CsrfField view={view} />
                  <input type="hidden" name="uri" value={uri} />
                  <button type="submit" class="secondary small" aria-describedby={`uri-${i}`}>
                    Remove
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="add-title">
        <h2 id="add-title">Add a redirect URL</h2>
        <form method="post" action={appPath(app.id, '/redirects')} novalidate>
          <CsrfField view={view} />
          <TextField
            id="uri"
            name="uri"
            label="Redirect URL"
            type="url"
            inputMode="url"
            spellcheck={false}
            hint="https (http only for localhost), canonical (lowercase host, no default port), no fragment; a * only in the path."
            value={refused?.uri ?? ''}
            error={refused !== undefined ? `${refused.why.headline} ${refused.why.detail}` : undefined}
            maxLength={2000}
          />
          <button type="submit">Add</button>
        </form>
      </section>
      <section aria-labelledby="try-title">
        <h2 id="try-title">Try a URL</h2>
        <p>Would Ferry accept this redirect_uri at connect, and through which registration?</p>
        <form method="post" action={appPath(app.id, '/redirects/try')} novalidate>
          <CsrfField view={view} />
          <TextField id="try" name="uri" label="URL to try" type="url" inputMode="url" spellcheck={false} value={tried?.uri ?? ''} maxLength={2000} />
          <button type="submit" class="secondary">
            Try it
          </button>
        </form>
        {tried !== undefined ? (
          <div class={tried.result.kind === 'match' ? 'notice try-result' : 'notice notice-danger try-result'} role="status" id="try-result">
            {tried.result.kind === 'match' ? (
              <>
                <p>
                  <strong>Matches.</strong> Ferry accepts <code>{tried.uri}</code>.
                </p>
                <p>
                  {tried.result.exact ? 'Exact registration: ' : 'Wildcard registration: '}
                  <code>{tried.result.registration}</code>
                </p>
              </>
            ) : (
              <>
                <p>
                  <strong>Does not match.</strong> Ferry would refuse <code>{tried.uri}</code> at connect with an error page.
                </p>
                <p>{tried.result.reason}</p>
              </>
            )}
          </div>
        ) : null}
      </section>
    </AppFrame>
  );
}

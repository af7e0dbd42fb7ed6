import type { App } from '../../apps/apps.js';
import { Page } from '../../http/page.js';
import { accountsExample, type CodeExample } from '../quickstart.js';
import { AppFrame, appPath } from './app-pages.js';
import { CsrfField, PORTAL_STYLESHEET, type PortalView } from './layout.js';

export interface QuickStartProps {
  view: PortalView;
  app: App;
  publicUrl: string;
  connectUrl: string;
  redirectUri: string;
  /** The redirect is Ferry's own test callback (it shows the code and the call to make). */
  usesTestCallback: boolean;
  /** Ferry's test callback, offered when the app has not registered it. */
  testCallback: string;
  sandbox: boolean;
  examples: CodeExample[];
}

export function QuickStartPage({ view, app, publicUrl, connectUrl, redirectUri, usesTestCallback, testCallback, sandbox, examples }: QuickStartProps) {
  return (
    <AppFrame view={view} app={app} tab="quickstart" title={`Quick start for ${app.name}`}>
      <p>From here to a first sandbox connection and an access token in a few minutes.</p>
      <ol class="steps">
        <li>
          <h2>Keep your credentials in your shell</h2>
          <p>
            Your client id is <code>{app.id}</code>. The secret was shown once, when you registered the app or rotated it; lost it?{' '}
            <a href={appPath(app.id)}>Rotate it on the overview</a>.
          </p>
          <pre class="code">{`export FERRY_CLIENT_ID=${app.id}\nexport FERRY_CLIENT_SECRET='<your client secret>'`}</pre>
        </li>
        <li>
          <h2>Connect a sandbox bank</h2>
          {sandbox ? (
            <p>
              Open the connect URL, accept, choose <strong>Test Data Bank 1</strong>, log in with any username and any numeric password (e.g. <code>1234</code>), share an
              account and press Accept.
            </p>
          ) : (
            <p>The sandbox banks are off on this Ferry (FERRY_SANDBOX=false): connect with a real bank instead.</p>
          )}
          <p>
            <a class="button" href={connectUrl} id="connect-link">
              Open the connect URL
            </a>
          </p>
          <p class="small">
            The same URL, for your own code (one-time flow, <code>scope=accounts</code>; add <code>offline_access</code> for continued access):
          </p>
          <pre class="code">{connectUrl}</pre>
        </li>
        <li>
          <h2>Exchange the code for tokens, within 60 seconds</h2>
          {usesTestCallback ? (
            <p>
              Ferry sends you back to its test callback (<code>{redirectUri}</code>), which shows the code in the command below, ready to paste.
            </p>
          ) : (
            <p>
              Ferry sends the browser back to <code>{redirectUri}</code> with <code>?code=…&amp;consentId=…&amp;state=quickstart&amp;iss=…</code>. Your server trades the code
              (once, within 60 seconds) with HTTP Basic authentication: <code>Basic base64("{app.id}:&lt;client secret&gt;")</code>.
            </p>
          )}
          {!usesTestCallback ? (
            <form method="post" action={appPath(app.id, '/redirects')}>
              <CsrfField view={view} />
              <input type="hidden" name="uri" value={testCallback} />
              <p class="small">
                No callback running yet? Register Ferry’s test callback (<code>{testCallback}</code>): it shows the code and the call to make, and this quick start uses it.
              </p>
              <button type="submit" class="secondary">
                Add the test callback
              </button>
            </form>
          ) : null}
          {examples.map((e, i) => (
            <details class="lang" key={e.id} open={i === 0}>
              <summary>{e.language}</summary>
              <pre class="code">{e.code}</pre>
            </details>
          ))}
        </li>
        <li>
          <h2>Read the data</h2>
          <p>
            With the access token (it lives an hour; the refresh token renews it). The data arrives in the background a moment after the user confirms: an account’s{' '}
            <code>syncStatus</code> says where it stands.
          </p>
          <pre class="code">{accountsExample(publicUrl)}</pre>
          <p>
            Every call is described at <a href="/docs">the API reference</a>; your consents are on the <a href={appPath(app.id, '/consents')}>Consents</a> page.
          </p>
        </li>
      </ol>
    </AppFrame>
  );
}

export interface TestCallbackProps {
  query: { code: string | null; consentId: string | null; state: string | null; error: string | null; errorDescription: string | null };
  expiresAt: number | null;
  examples: CodeExample[];
  portalAppPath: string | null;
}

/** Ferry's test callback: where a new app's users come back while the app has no callback of its own. */
export function TestCallbackPage({ query, expiresAt, examples, portalAppPath }: TestCallbackProps) {
  const title = query.code !== null ? 'Back from the connect flow: exchange the code' : 'Back from the connect flow without a code';
  return (
    <Page culture="en" title={`${title} – Ferry developer portal`} styles={[PORTAL_STYLESHEET]}>
      <header class="portal-header">
        <a class="portal-brand" href="/portal">
          Ferry <span>developer portal</span>
        </a>
      </header>
      <main class="portal-main" id="main">
        <h1>{title}</h1>
        <p>This is Ferry’s test callback: it stands in for your app’s redirect URL while you try Ferry. Your app receives the same query parameters.</p>
        {query.code !== null ? (
          <>
            <dl class="facts">
              <dt>code</dt>
              <dd>
                <code id="received-code">{query.code}</code>
              </dd>
              <dt>consentId</dt>
              <dd>
                <code>{query.consentId ?? '–'}</code>
              </dd>
              <dt>state</dt>
              <dd>
                <code>{query.state ?? '–'}</code>
              </dd>
              {expiresAt !== null ? (
                <>
                  <dt>Valid until</dt>
                  <dd>{new Date(expiresAt).toISOString().slice(0, 19).replace('T', ' ')} UTC (it works once, for 60 seconds)</dd>
                </>
              ) : null}
            </dl>
            <h2>Run this now (with FERRY_CLIENT_SECRET set)</h2>
            {examples.map((e, i) => (
              <details class="lang" key={e.id} open={i === 0}>
                <summary>{e.language}</summary>
                <pre class="code" id={i === 0 ? 'token-call' : undefined}>
                  {e.code}
                </pre>
              </details>
            ))}
            <p>The answer holds your access_token and refresh_token. Too late? Open the connect URL again for a fresh code.</p>
          </>
        ) : (
          <>
            <p role="alert">
              The flow ended without a code: <code>{query.error ?? 'no error given'}</code>
              {query.errorDescription !== null ? ` (${query.errorDescription})` : ''}.
            </p>
            <p>The user cancelled, or the bank failed. Open the connect URL again to retry.</p>
          </>
        )}
        {portalAppPath !== null ? (
          <p>
            <a href={portalAppPath}>Back to the app’s quick start</a>
          </p>
        ) : null}
      </main>
    </Page>
  );
}

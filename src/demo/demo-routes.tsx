import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import { FerryClient, FerryError, type Account, type FerryTokens, type Transaction } from '../../packages/client/src/client/index.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { registerFormBodyParser } from '../flow/form-body.js';
import { Page, renderPage } from '../http/page.js';
import { decodeJwt } from '../tokens/jwt.js';
import { DEMO_CALLBACK_PATH, loadDemoCredentials } from './demo-app.js';
import { injectFetch } from './inject-fetch.js';

const COOKIE = 'ferry_demo';
/**
 * The demo keeps the user's tokens (and consent id) in an HttpOnly cookie for its data page: a
 * stand-in for the app's own session store, where a real app keeps them server side.
 */
const TOKEN_COOKIE = 'ferry_demo_token';
/** How long the demo remembers a connection; the refresh token itself ends sooner for a one-time consent. */
const TOKEN_COOKIE_SECONDS = 86_400;

interface DemoSession {
  consentId: string;
  tokens: FerryTokens;
}

/**
 * The demo app: what an app developer's integration looks like, served by Ferry itself and written
 * with @ferry/client like any app: the connect URL with state and PKCE, the callback's checks and
 * the code exchange, a token session that refreshes (keeping the rotated refresh token), the reads,
 * and revoking the consent. The client reaches this Ferry in process (see inject-fetch.ts).
 */
export async function demoRoutes(app: FastifyInstance, options: { db: Kysely<Database>; clock: Clock; publicUrl: string }): Promise<void> {
  const { db, publicUrl } = options;
  const redirectUri = `${publicUrl}${DEMO_CALLBACK_PATH}`;
  const secure = publicUrl.startsWith('https://');
  const fetch = injectFetch(app, publicUrl);
  registerFormBodyParser(app);

  /** The demo app's client, or null when this deployment has no demo app. */
  const ferryClient = async (): Promise<FerryClient | null> => {
    const credentials = await loadDemoCredentials(db);
    return credentials === null ? null : new FerryClient({ baseUrl: publicUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret, fetch });
  };
  const saveSession = (reply: FastifyReply, session: DemoSession) =>
    reply.setCookie(TOKEN_COOKIE, JSON.stringify(session), { path: '/demo', httpOnly: true, sameSite: 'lax', secure, maxAge: TOKEN_COOKIE_SECONDS });
  const readSession = (value: string | undefined): DemoSession | null => {
    try {
      const parsed = JSON.parse(value ?? '') as Partial<DemoSession>;
      return typeof parsed.consentId === 'string' && typeof parsed.tokens?.refreshToken === 'string' ? (parsed as DemoSession) : null;
    } catch {
      return null;
    }
  };

  app.get('/demo', { schema: { hide: true }, config: { html: true } }, async (_request, reply) => {
    const credentials = await loadDemoCredentials(db);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return renderPage(
      <Page culture="en" title="Ferry demo app">
        <main class="card">
          <h1>Ferry demo app</h1>
          {credentials === null ? (
            <p>The demo app is not set up: this deployment already had apps when it first started.</p>
          ) : (
            <>
              <p>
                This page plays the part of an app that wants to read your bank data. Press a button to go through Ferry’s connect flow with the
                sandbox banks; you will come back here with a code that this page exchanges for tokens.
              </p>
              <form method="post" action="/demo/start" class="actions">
                <button type="submit" name="mode" value="one-time">
                  Connect once (one-time flow)
                </button>
                <button type="submit" name="mode" value="regular" class="secondary">
                  Keep connected (regular flow)
                </button>
              </form>
              <h2>The app’s credentials</h2>
              <p class="small muted">
                Client id <code>{credentials.clientId}</code>, redirect URI <code>{redirectUri}</code>.
              </p>
              <p class="small muted">
                The demo is written with Ferry’s TypeScript client, <code>@ferry/client</code> (packages/client): <code>createConnectUrl</code>,{' '}
                <code>parseCallback</code>, <code>exchangeCode</code>, <code>session</code>, <code>listAccounts</code>, <code>getTransactionPage</code>{' '}
                and <code>revokeConsent</code>.
              </p>
            </>
          )}
        </main>
      </Page>,
    );
  });

  app.post('/demo/start', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    const ferry = await ferryClient();
    if (ferry === null) return reply.redirect('/demo', 303);
    const mode = (request.body as { mode?: string } | undefined)?.mode === 'regular' ? 'regular' : 'one-time';
    const { url, state, codeVerifier } = await ferry.createConnectUrl({ redirectUri, scope: mode === 'regular' ? 'accounts offline_access' : 'accounts' });
    // Both are base64url, so a dot separates them.
    reply.setCookie(COOKIE, `${state}.${codeVerifier}`, { path: '/demo', httpOnly: true, sameSite: 'lax', secure, maxAge: 1800 });
    return reply.redirect(url, 303);
  });

  app.get('/demo/data', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const ferry = await ferryClient();
    const stored = readSession(request.cookies[TOKEN_COOKIE]);
    if (ferry === null || stored === null) return renderPage(<DemoDataPage state={{ kind: 'none' }} />);
    // Refreshes when the access token is about to expire, and keeps the rotated refresh token.
    const session = ferry.session(stored.tokens, { onTokens: (tokens) => void saveSession(reply, { consentId: stored.consentId, tokens }) });
    try {
      const accounts = await ferry.listAccounts(session);
      const first = accounts.find((a) => a.syncStatus === 'Finished');
      const transactions = first === undefined ? [] : (await ferry.getTransactionPage(session, first.id, { pageSize: 15 })).transactions;
      return renderPage(
        <DemoDataPage
          state={{ kind: 'data', accounts, transactions, consentId: stored.consentId, expiresAt: session.tokens.expiresAt, ...(first ? { transactionsOf: first.name } : {}) }}
        />,
      );
    } catch (error) {
      if (!(error instanceof FerryError)) throw error;
      reply.clearCookie(TOKEN_COOKIE, { path: '/demo' });
      return renderPage(<DemoDataPage state={{ kind: 'refused', error: `${error.error}${error.errorDescription ? `: ${error.errorDescription}` : ''}` }} />);
    }
  });

  app.post('/demo/revoke', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const ferry = await ferryClient();
    const stored = readSession(request.cookies[TOKEN_COOKIE]);
    if (ferry === null || stored === null) return reply.redirect('/demo/data', 303);
    const consent = await ferry.revokeConsent(stored.consentId);
    reply.clearCookie(TOKEN_COOKIE, { path: '/demo' });
    return renderPage(<DemoRevokedPage consentId={consent.consentId} status={consent.status} rowCounts={consent.receipt?.rowCounts ?? {}} />);
  });

  app.get(DEMO_CALLBACK_PATH, { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    const ferry = await ferryClient();
    const [expectedState = '', codeVerifier = ''] = (request.cookies[COOKIE] ?? '').split('.');
    reply.clearCookie(COOKIE, { path: '/demo' }).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    if (ferry === null) return renderPage(<DemoCallbackPage outcome={{ kind: 'error', message: 'The demo app is not set up on this deployment.' }} />);
    let outcome: DemoOutcome;
    try {
      // The issuer and the state first (RFC 9207, RFC 6749 §10.12): only then is the code used.
      const { code, consentId } = ferry.parseCallback(request.query as Record<string, string | string[] | undefined>, { state: expectedState });
      const tokens = await ferry.exchangeCode({ code, redirectUri, codeVerifier });
      saveSession(reply, { consentId: consentId ?? '', tokens });
      outcome = { kind: 'tokens', consentId: consentId ?? '', tokens, claims: decodeJwt(tokens.accessToken)?.claims ?? {} };
    } catch (error) {
      if (!(error instanceof FerryError)) throw error;
      outcome = { kind: 'error', message: describeFailure(error) };
    }
    return renderPage(<DemoCallbackPage outcome={outcome} />);
  });
}

function describeFailure(error: FerryError): string {
  switch (error.error) {
    case 'state_mismatch':
      return 'The state does not match the one this browser started with (an old tab, or a forged request), so the code was not used.';
    case 'invalid_callback':
      return 'Ferry sent you back without a code.';
    default:
      return error.kind === 'authorization'
        ? `Ferry sent you back with error=${error.error}: ${error.errorDescription ?? ''}`
        : `The token endpoint answered ${error.status ?? 'nothing'}: ${error.error} — ${error.errorDescription ?? ''}`;
  }
}

type DemoOutcome = { kind: 'error'; message: string } | { kind: 'tokens'; consentId: string; tokens: FerryTokens; claims: Record<string, unknown> };

function DemoCallbackPage({ outcome }: { outcome: DemoOutcome }) {
  return (
    <Page culture="en" title="Ferry demo app">
      <main class="card">
        {outcome.kind === 'error' ? (
          <>
            <h1>Not connected</h1>
            <p role="alert">{outcome.message}</p>
          </>
        ) : (
          <>
            <h1>Connected</h1>
            <p>
              The demo app exchanged the code for tokens on the server side. Consent <code>{outcome.consentId}</code>.
            </p>
            <h2>Tokens</h2>
            <pre>
              {JSON.stringify(
                {
                  ...outcome.tokens,
                  accessToken: abbreviate(outcome.tokens.accessToken),
                  refreshToken: abbreviate(outcome.tokens.refreshToken),
                  expiresAt: new Date(outcome.tokens.expiresAt).toISOString(),
                },
                null,
                2,
              )}
            </pre>
            <h2>Access token claims</h2>
            <pre>{JSON.stringify(outcome.claims, null, 2)}</pre>
            <p class="actions">
              <a class="button" href="/demo/data">
                Read the shared accounts
              </a>
            </p>
          </>
        )}
        <p class="actions">
          <a class="button secondary" href="/demo">
            Back to the demo app
          </a>
        </p>
      </main>
    </Page>
  );
}

function abbreviate(token: string): string {
  return token.length > 40 ? `${token.slice(0, 24)}…${token.slice(-8)}` : token;
}

function money(m: { value: number; currency: string } | null): string {
  return m === null ? '—' : new Intl.NumberFormat('en', { style: 'currency', currency: m.currency }).format(m.value);
}

type DemoDataState =
  | { kind: 'none' }
  | { kind: 'refused'; error: string }
  | { kind: 'data'; consentId: string; accounts: Account[]; transactions: Transaction[]; transactionsOf?: string; expiresAt: number };

function DemoDataPage({ state }: { state: DemoDataState }) {
  return (
    <Page culture="en" title="Ferry demo app: shared data">
      <main class="card">
        <h1>Shared data</h1>
        {state.kind === 'none' ? (
          <p role="alert">The demo app is not connected to a bank in this browser. Connect first.</p>
        ) : state.kind === 'refused' ? (
          <p role="alert">
            Ferry refused the demo app’s tokens (<code>{state.error}</code>): the consent was revoked, or a one-time consent reached its deadline. Connect
            again.
          </p>
        ) : (
          <>
            <p>
              What the demo app reads with <code>listAccounts</code> (<code>GET /v1/accounts</code>) and <code>getTransactionPage</code> (
              <code>GET /v1/accounts/&#123;id&#125;/transactions</code>). Data arrives in the background after you confirm your accounts: reload while an
              account says Syncing.
            </p>
            <p class="small muted">
              Consent <code>{state.consentId}</code>. The access token lasts until {new Date(state.expiresAt).toISOString()}; the client’s token session
              refreshes it shortly before, and keeps the rotated refresh token.
            </p>
            <div class="table-scroll">
              <table>
                <caption class="small muted">Accounts</caption>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col" class="num">
                      Booked balance
                    </th>
                    <th scope="col">Sync</th>
                  </tr>
                </thead>
                <tbody>
                  {state.accounts.map((a) => (
                    <tr key={a.id}>
                      <td>
                        {a.name}
                        <br />
                        <span class="small muted break-anywhere">{a.number.iban ?? a.number.card ?? a.number.bban ?? ''}</span>
                      </td>
                      <td class="num">{money(a.booked)}</td>
                      <td>{a.syncStatus}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {state.transactionsOf !== undefined ? (
              <div class="table-scroll">
                <table>
                  <caption class="small muted">Newest transactions of {state.transactionsOf}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Transaction</th>
                      <th scope="col" class="num">
                        Amount
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {state.transactions.map((t) => (
                      <tr key={t.id}>
                        <td>
                          {t.text}
                          <br />
                          <span class="small muted">
                            {t.date}
                            {t.state === 'Reserved' ? ' · pending' : null}
                          </span>
                        </td>
                        <td class="num">{money(t.transactionAmount)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
            <form method="post" action="/demo/revoke" class="actions">
              <button type="submit" class="secondary">
                Revoke the consent (erases its data now)
              </button>
            </form>
          </>
        )}
        <p class="actions">
          <a class="button secondary" href="/demo/data">
            Reload
          </a>
          <a class="button secondary" href="/demo">
            Back to the demo app
          </a>
        </p>
      </main>
    </Page>
  );
}

function DemoRevokedPage({ consentId, status, rowCounts }: { consentId: string; status: string; rowCounts: Record<string, number> }) {
  return (
    <Page culture="en" title="Ferry demo app: consent revoked">
      <main class="card">
        <h1>Consent revoked</h1>
        <p>
          The demo app revoked consent <code>{consentId}</code> with <code>revokeConsent</code> (<code>DELETE /v1/consents/&#123;id&#125;</code>).
          Ferry answered <code>{status}</code>: its data is erased, and its tokens no longer work.
        </p>
        <h2>Deletion receipt</h2>
        <pre>{JSON.stringify(rowCounts, null, 2)}</pre>
        <p class="actions">
          <a class="button secondary" href="/demo">
            Back to the demo app
          </a>
        </p>
      </main>
    </Page>
  );
}

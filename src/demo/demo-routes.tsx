import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { constantTimeEqual, randomToken } from '../crypto.js';
import type { Database } from '../db/schema.js';
import { registerFormBodyParser } from '../flow/form-body.js';
import { Page, renderPage } from '../http/page.js';
import { decodeJwt } from '../tokens/jwt.js';
import { DEMO_CALLBACK_PATH, loadDemoCredentials } from './demo-app.js';

const COOKIE = 'ferry_demo';
/** The demo keeps its access token in an HttpOnly cookie for its data page: a stand-in for the app's own session store. */
const TOKEN_COOKIE = 'ferry_demo_token';

/**
 * The demo app: what an app developer's integration looks like, served by Ferry itself. It builds
 * the connect URL with state and PKCE, and on the way back checks the state and exchanges the
 * code server-side through Ferry's real token endpoint.
 */
export async function demoRoutes(app: FastifyInstance, options: { db: Kysely<Database>; clock: Clock; publicUrl: string }): Promise<void> {
  const { db, publicUrl } = options;
  const redirectUri = `${publicUrl}${DEMO_CALLBACK_PATH}`;
  registerFormBodyParser(app);

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
            </>
          )}
        </main>
      </Page>,
    );
  });

  app.post('/demo/start', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    const credentials = await loadDemoCredentials(db);
    if (credentials === null) return reply.redirect('/demo', 303);
    const mode = (request.body as { mode?: string } | undefined)?.mode === 'regular' ? 'regular' : 'one-time';
    const state = randomToken(16);
    const verifier = randomToken(32);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    reply.setCookie(COOKIE, `${state}.${verifier}`, { path: '/demo', httpOnly: true, sameSite: 'lax', secure: publicUrl.startsWith('https://'), maxAge: 1800 });
    const url = new URL(`${publicUrl}/v1/oauth/connect`);
    url.searchParams.set('client_id', credentials.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', mode === 'regular' ? 'accounts offline_access' : 'accounts');
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return reply.redirect(url.toString(), 303);
  });

  app.get('/demo/data', { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const token = request.cookies[TOKEN_COOKIE];
    const read = async (url: string) => {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token ?? ''}` } });
      return { status: res.statusCode, body: res.json() as Record<string, any> };
    };
    const accounts = await read('/v1/accounts');
    if (token === undefined || accounts.status !== 200) return renderPage(<DemoDataPage accounts={null} transactions={[]} />);
    const list = accounts.body.accounts as DemoAccount[];
    const first = list.find((a) => a.syncStatus === 'Finished');
    const transactions = first === undefined ? [] : ((await read(`/v1/accounts/${encodeURIComponent(first.id)}/transactions?pageSize=15`)).body.transactions as DemoTransaction[]);
    return renderPage(<DemoDataPage accounts={list} transactions={transactions} transactionsOf={first?.name} />);
  });

  app.get(DEMO_CALLBACK_PATH, { schema: { hide: true }, config: { html: true } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const credentials = await loadDemoCredentials(db);
    const [expectedState, verifier] = (request.cookies[COOKIE] ?? '').split('.');
    reply.clearCookie(COOKIE, { path: '/demo' }).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    let outcome: DemoOutcome;
    if (credentials === null) outcome = { kind: 'error', message: 'The demo app is not set up on this deployment.' };
    else if (query.error) outcome = { kind: 'error', message: `Ferry sent you back with error=${query.error}: ${query.error_description ?? ''}` };
    else if (!query.code) outcome = { kind: 'error', message: 'Ferry sent you back without a code.' };
    else if (!expectedState || !query.state || !constantTimeEqual(query.state, expectedState)) {
      outcome = { kind: 'error', message: 'The state does not match the one this browser started with (an old tab, or a forged request), so the code was not used.' };
    } else {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: {
          authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`, 'latin1').toString('base64')}`,
          'content-type': 'application/json',
        },
        payload: JSON.stringify({ grant_type: 'authorization_code', code: query.code, redirect_uri: redirectUri, code_verifier: verifier }),
      });
      const body = response.json() as Record<string, unknown>;
      outcome =
        response.statusCode === 200
          ? { kind: 'tokens', consentId: query.consentId ?? '', tokens: body, claims: decodeJwt(String(body.access_token))?.claims ?? {} }
          : { kind: 'error', message: `The token endpoint answered ${response.statusCode}: ${String(body.error)} — ${String(body.error_description)}` };
      if (response.statusCode === 200) {
        reply.setCookie(TOKEN_COOKIE, String(body.access_token), { path: '/demo', httpOnly: true, sameSite: 'lax', secure: publicUrl.startsWith('https://'), maxAge: 3600 });
      }
    }
    return renderPage(<DemoCallbackPage outcome={outcome} />);
  });
}

type DemoOutcome =
  | { kind: 'error'; message: string }
  | { kind: 'tokens'; consentId: string; tokens: Record<string, unknown>; claims: Record<string, unknown> };

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
            <h2>Token response</h2>
            <pre>{JSON.stringify({ ...outcome.tokens, access_token: abbreviate(outcome.tokens.access_token), refresh_token: abbreviate(outcome.tokens.refresh_token) }, null, 2)}</pre>
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

function abbreviate(token: unknown): string {
  const s = String(token);
  return s.length > 40 ? `${s.slice(0, 24)}…${s.slice(-8)}` : s;
}

interface DemoAccount {
  id: string;
  name: string;
  currency: string;
  booked: { value: number; currency: string } | null;
  number: { iban: string | null; bban: string | null; card: string | null };
  syncStatus: string;
}

interface DemoTransaction {
  id: string;
  date: string;
  text: string;
  state: string;
  transactionAmount: { value: number; currency: string };
}

function money(m: { value: number; currency: string } | null): string {
  return m === null ? '—' : new Intl.NumberFormat('en', { style: 'currency', currency: m.currency }).format(m.value);
}

function DemoDataPage({ accounts, transactions, transactionsOf }: { accounts: DemoAccount[] | null; transactions: DemoTransaction[]; transactionsOf?: string }) {
  return (
    <Page culture="en" title="Ferry demo app: shared data">
      <main class="card">
        <h1>Shared data</h1>
        {accounts === null ? (
          <p role="alert">The demo app has no valid access token (it lasts an hour, and one-time consents end at their deadline). Connect again.</p>
        ) : (
          <>
            <p>
              What the demo app reads with <code>GET /v1/accounts</code> and <code>GET /v1/accounts/&#123;id&#125;/transactions</code>. Data arrives in the
              background after you confirm your accounts: reload while an account says Syncing.
            </p>
            <table>
              <caption class="small muted">Accounts</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col" class="num">
                    Balance
                  </th>
                  <th scope="col">Sync</th>
                </tr>
              </thead>
              <tbody>
                {accounts.map((a) => (
                  <tr key={a.id}>
                    <td>
                      {a.name}
                      <br />
                      <span class="small muted">{a.number.iban ?? a.number.card ?? a.number.bban ?? ''}</span>
                    </td>
                    <td class="num">{money(a.booked)}</td>
                    <td>{a.syncStatus}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {transactionsOf !== undefined ? (
              <table>
                <caption class="small muted">Newest transactions of {transactionsOf}</caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Text</th>
                    <th scope="col" class="num">
                      Amount
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {transactions.map((t) => (
                    <tr key={t.id}>
                      <td>{t.date}</td>
                      <td>
                        {t.text}
                        {t.state === 'Reserved' ? <span class="small muted"> (pending)</span> : null}
                      </td>
                      <td class="num">{money(t.transactionAmount)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
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

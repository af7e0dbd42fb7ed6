import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { constantTimeEqual, randomToken } from '../crypto.js';
import type { Database } from '../db/schema.js';
import { Page, renderPage } from '../http/page.js';
import { decodeJwt } from '../tokens/jwt.js';
import { DEMO_CALLBACK_PATH, loadDemoCredentials } from './demo-app.js';

const COOKIE = 'ferry_demo';

/**
 * The demo app: what an app developer's integration looks like, served by Ferry itself. It builds
 * the connect URL with state and PKCE, and on the way back checks the state and exchanges the
 * code server-side through Ferry's real token endpoint.
 */
export async function demoRoutes(app: FastifyInstance, options: { db: Kysely<Database>; clock: Clock; publicUrl: string }): Promise<void> {
  const { db, publicUrl } = options;
  const redirectUri = `${publicUrl}${DEMO_CALLBACK_PATH}`;

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

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ensureDemoApp } from '../../src/demo/demo-app.js';
import { createFlowConsent, finishFlowSession, flowSessionIdFromHandle } from '../../src/flow/session.js';
import { loginAtBank, runJobs } from '../helpers/connect.js';
import { createTestServer, PUBLIC_URL, type TestServer } from '../helpers/server.js';

const cookieOf = (response: LightMyRequestResponse, name: string) => response.cookies.find((c) => c.name === name && c.value !== '')?.value;

/**
 * The demo app that `npm start` creates, written with @ferry/client: it builds the connect URL,
 * checks the callback, exchanges the code, reads with a refreshing token session and revokes,
 * all through the client over Ferry's own routes (in process, so these tests need no port).
 */
describe('the demo app (with @ferry/client)', () => {
  let server: TestServer;

  before(async () => {
    server = await createTestServer('sqlite', { FERRY_DEMO: 'true' });
    assert.ok(await ensureDemoApp(server.services.database.db, server.clock, PUBLIC_URL));
  });
  after(() => server.close());

  /** Start → connect → the user's flow at a sandbox bank → back at the demo's callback. */
  async function connectThroughDemo(mode: 'one-time' | 'regular') {
    const start = await server.app.inject({ method: 'POST', url: '/demo/start', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `mode=${mode}` });
    assert.equal(start.statusCode, 303);
    const connectUrl = new URL(String(start.headers.location));
    const flowCookie = cookieOf(start, 'ferry_demo')!;
    const [state, verifier] = flowCookie.split('.');
    assert.equal(connectUrl.searchParams.get('state'), state);
    assert.equal(connectUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.match(verifier!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(connectUrl.searchParams.get('scope'), mode === 'regular' ? 'accounts offline_access' : 'accounts');

    const connect = await server.app.inject({ method: 'GET', url: `${connectUrl.pathname}${connectUrl.search}` });
    assert.equal(connect.statusCode, 301);
    const flowId = flowSessionIdFromHandle(new URL(String(connect.headers.location)).searchParams.get('f')!);
    const connection = await loginAtBank(server, 'TestDataBank1', 'demo-user');
    const accounts = await server.services.providers.get('TestDataBank1')!.listAccounts(connection, { now: () => server.clock.now() });
    await createFlowConsent(server.services.flow, flowId, { providerId: 'TestDataBank1', connection, accounts });
    const finished = await finishFlowSession(server.services.flow, flowId, { providerId: 'TestDataBank1' });
    const callback = new URL(finished!.redirectUrl);
    assert.equal(callback.pathname, '/demo/callback');
    return { callback, flowCookie, consentId: finished!.consentId };
  }

  it('exchanges the code with the client and reads the accounts and transactions', async () => {
    const { callback, flowCookie, consentId } = await connectThroughDemo('regular');
    const page = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, cookies: { ferry_demo: flowCookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Connected<\/h1>/);
    assert.ok(page.body.includes(consentId));
    assert.match(page.body, /&quot;tokenType&quot;: &quot;bearer&quot;/);
    const session = cookieOf(page, 'ferry_demo_token')!;
    assert.ok(session);

    await runJobs(server);
    const data = await server.app.inject({ method: 'GET', url: '/demo/data', cookies: { ferry_demo_token: session } });
    assert.equal(data.statusCode, 200);
    const names = await server.services.database.db.selectFrom('accounts').select('name').where('consent_id', '=', consentId).execute();
    for (const { name } of names) assert.ok(data.body.includes(name), name);
    assert.match(data.body, /Newest transactions of/);
    assert.equal(cookieOf(data, 'ferry_demo_token'), undefined, 'a fresh token: no refresh');
  });

  it('refreshes an expired access token through the token session and stores the rotated refresh token', async () => {
    const { callback, flowCookie } = await connectThroughDemo('regular');
    const page = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, cookies: { ferry_demo: flowCookie } });
    const stored = JSON.parse(cookieOf(page, 'ferry_demo_token')!) as { consentId: string; tokens: { refreshToken: string; expiresAt: number } };
    stored.tokens.expiresAt = Date.now() - 1000;
    server.clock.advance(1000);
    const data = await server.app.inject({ method: 'GET', url: '/demo/data', cookies: { ferry_demo_token: JSON.stringify(stored) } });
    assert.equal(data.statusCode, 200);
    assert.match(data.body, /<caption class="small muted">Accounts<\/caption>/);
    const rotated = JSON.parse(cookieOf(data, 'ferry_demo_token')!) as typeof stored;
    assert.notEqual(rotated.tokens.refreshToken, stored.tokens.refreshToken);
    assert.ok(rotated.tokens.expiresAt > Date.now());
  });

  it('revokes the consent with the client; the old tokens are then refused', async () => {
    const { callback, flowCookie, consentId } = await connectThroughDemo('one-time');
    const page = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, cookies: { ferry_demo: flowCookie } });
    const session = cookieOf(page, 'ferry_demo_token')!;
    const revoked = await server.app.inject({ method: 'POST', url: '/demo/revoke', cookies: { ferry_demo_token: session } });
    assert.equal(revoked.statusCode, 200);
    assert.match(revoked.body, /Consent revoked/);
    assert.ok(revoked.body.includes(consentId));
    const consent = await server.services.database.db.selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst();
    assert.equal(consent, undefined, 'erased');

    const refused = await server.app.inject({ method: 'GET', url: '/demo/data', cookies: { ferry_demo_token: session } });
    assert.match(refused.body, /refused the demo app’s tokens \(<code>invalid_token/);
  });

  it('uses no code whose state is not this browser’s, and shows a cancel', async () => {
    const { callback } = await connectThroughDemo('one-time');
    const otherBrowser = await server.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, cookies: { ferry_demo: 'another-state.verifier' } });
    assert.match(otherBrowser.body, /The state does not match/);
    assert.equal(cookieOf(otherBrowser, 'ferry_demo_token'), undefined);

    const cancelled = await server.app.inject({
      method: 'GET',
      url: `/demo/callback?error=access_denied&error_description=Cancelled&state=s1&iss=${encodeURIComponent(PUBLIC_URL)}`,
      cookies: { ferry_demo: 's1.v' },
    });
    assert.match(cancelled.body, /error=access_denied: Cancelled/);
  });
});

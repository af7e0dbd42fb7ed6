import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { createApp } from '../../src/apps/apps.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { finishFlowSession, flowSessionIdFromHandle } from '../../src/flow/session.js';
import { buildServer, type Services } from '../../src/server.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/listen.js';
import type { FastifyInstance } from 'fastify';

/**
 * A standard OAuth client that nobody here wrote (oauth4webapi, by the author of jose and
 * node-oidc-provider) completes discovery, the code exchange with PKCE, refresh and revocation.
 */
for (const dialect of DIALECTS) {
  describe(`oauth4webapi against a running Ferry (RFC 8414, 7636, 9207, 7009) [${dialect}]`, () => {
    let testDb: TestDatabase;
    let app: FastifyInstance;
    let services: Services;
    let issuer: string;
    let client: oauth.Client;
    let clientAuth: oauth.ClientAuth;
    const redirectUri = 'http://127.0.0.1:9/callback';

    before(async () => {
      testDb = await createTestDatabase(dialect);
      const port = await freePort();
      issuer = `http://127.0.0.1:${port}`;
      const config = { ...loadConfig({ PUBLIC_URL: issuer, LOG_LEVEL: 'silent', FERRY_DEMO: 'false' }), database: testDb.config };
      ({ app, services } = await buildServer({ config, database: testDb.database, clock: new ManualClock(Date.now()) }));
      await app.listen({ port, host: '127.0.0.1' });
      const created = await createApp(testDb.database.db, services.clock, { name: 'Standard client', redirectUris: [redirectUri] });
      client = { client_id: created.app.id };
      clientAuth = oauth.ClientSecretBasic(created.clientSecret);
    });
    after(async () => {
      await app.close();
      await testDb.drop();
    });

    it('discovers, authorizes with PKCE and state, exchanges the code, refreshes and revokes', async () => {
      const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
      assert.equal(as.token_endpoint, `${issuer}/v1/oauth/token`);

      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const authorizationUrl = new URL(as.authorization_endpoint!);
      authorizationUrl.searchParams.set('client_id', client.client_id);
      authorizationUrl.searchParams.set('redirect_uri', redirectUri);
      authorizationUrl.searchParams.set('response_type', 'code');
      authorizationUrl.searchParams.set('scope', 'accounts offline_access');
      authorizationUrl.searchParams.set('state', state);
      authorizationUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      authorizationUrl.searchParams.set('code_challenge_method', 'S256');

      const connect = await fetch(authorizationUrl, { redirect: 'manual' });
      assert.equal(connect.status, 301);
      const handle = new URL(connect.headers.get('location')!).searchParams.get('f')!;
      // The user walks the hosted flow and presses Accept (the pages have their own browser tests).
      const finished = await finishFlowSession(
        { db: testDb.database.db, clock: services.clock, issuer, oneTimeRetentionMs: 86_400_000 },
        flowSessionIdFromHandle(handle),
        { providerId: 'TestDataBank1' },
      );
      const callback = new URL(finished!.redirectUrl);
      assert.ok(callback.searchParams.get('consentId'));

      const params = oauth.validateAuthResponse(as, client, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, { [oauth.allowInsecureRequests]: true });
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.ok(tokens.refresh_token);

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, { [oauth.allowInsecureRequests]: true }),
      );
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

      const revoked = await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, { [oauth.allowInsecureRequests]: true });
      await oauth.processRevocationResponse(revoked);
      await assert.rejects(
        async () =>
          oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, { [oauth.allowInsecureRequests]: true })),
        (error: unknown) => error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant',
      );
    });

    it('sees an error redirect with state and iss that it validates as an error (RFC 9207)', async () => {
      const as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'payments', state: 's1' }).toString();
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.throws(
        () => oauth.validateAuthResponse(as, client, new URL(res.headers.get('location')!), 's1'),
        (error: unknown) => error instanceof oauth.AuthorizationResponseError && error.error === 'invalid_scope',
      );
    });
  });
}

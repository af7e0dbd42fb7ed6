import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createSecretKey } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, issueCode, PUBLIC_URL, type TestClient, type TestServer } from '../helpers/server.js';

for (const dialect of DIALECTS) {
  describe(`POST /v1/oauth/token (aiia-api.md §3, RFC 6749) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const exchange = (body: Record<string, string>, headers: Record<string, string> = { authorization: client.basic }) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body),
      });

    it('answers the seed page’s curl (Basic auth, JSON body) with the documented token response', async () => {
      const { code, consentId } = await issueCode(server, client);
      // The seed's body, with its missing commas restored.
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: `{
        "grant_type" : "authorization_code",
        "code": "${code}",
        "redirect_uri" : "${client.redirectUri}"
      }`,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'redirect_uri', 'refresh_token', 'token_type']);
      assert.equal(body.expires_in, 3600);
      assert.equal(body.token_type, 'bearer');
      assert.equal(body.redirect_uri, client.redirectUri);

      const access = decodeJwt(body.access_token);
      assert.equal(access.clientId, client.clientId);
      assert.equal(access.role, 'ClientUser');
      assert.equal(access.scopes, 'Accounts');
      assert.equal(access.consentId, consentId);
      assert.equal(typeof access.userId, 'string');
      assert.equal(typeof access.sessionId, 'string');
      assert.equal(access.exp! - access.iat!, 3600);
      const refresh = decodeJwt(body.refresh_token);
      assert.equal(refresh.role, 'RefreshToken');
      assert.equal(refresh.consentId, consentId);
    });

    it('signs tokens that jose verifies with the signing key and its kid', async () => {
      const { code } = await issueCode(server, client);
      const body = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
      const key = server.services.keys.current();
      const { payload, protectedHeader } = await jwtVerify(body.access_token, createSecretKey(key.secret), {
        algorithms: ['HS256'],
        issuer: PUBLIC_URL,
        currentDate: new Date(server.clock.now()),
      });
      assert.equal(protectedHeader.kid, key.kid);
      assert.equal(payload.clientId, client.clientId);
    });

    it('refuses the seed’s malformed JSON (missing commas) with 400 invalid_request that says so', async () => {
      const { code } = await issueCode(server, client);
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: `{
        "grant_type" : "authorization_code"
        "code": "${code}"
        "redirect_uri" : "${client.redirectUri}"
      }`,
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /malformed JSON/);
    });

    it('accepts form-encoded bodies and client credentials in the body (RFC 6749 §2.3.1)', async () => {
      const { code } = await issueCode(server, client);
      const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, client_id: client.clientId, client_secret: client.clientSecret });
      const res = await server.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
      assert.equal(res.statusCode, 200, res.body);
    });

    it('refuses client credentials in both the header and the body', async () => {
      const { code } = await issueCode(server, client);
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_request');
    });

    it('answers a wrong secret in Basic with 401 invalid_client and WWW-Authenticate: Basic', async () => {
      const { code } = await issueCode(server, client);
      const bad = `Basic ${Buffer.from(`${client.clientId}:wrong`).toString('base64')}`;
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri }, { authorization: bad });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_client');
      assert.match(String(res.headers['www-authenticate']), /^Basic /);
      // The code was not spent by the failed attempt.
      assert.equal((await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).statusCode, 200);
    });

    it('accepts a rotated-out secret only during its grace period', async () => {
      const { rotateClientSecret } = await import('../../src/apps/apps.js');
      const newSecret = await rotateClientSecret(server.services.database.db, server.clock, client.clientId, 60);
      const { code } = await issueCode(server, client);
      assert.equal((await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).statusCode, 200);
      server.clock.advance(61_000);
      const second = await issueCode(server, client);
      assert.equal((await exchange({ grant_type: 'authorization_code', code: second.code, redirect_uri: client.redirectUri })).statusCode, 401);
      const fresh = `Basic ${Buffer.from(`${client.clientId}:${newSecret}`).toString('base64')}`;
      assert.equal((await exchange({ grant_type: 'authorization_code', code: second.code, redirect_uri: client.redirectUri }, { authorization: fresh })).statusCode, 200);
    });

    it('lets a code live 60 seconds (aiia-api.md §3)', async () => {
      const { code } = await issueCode(server, client);
      server.clock.advance(60_000);
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'invalid_grant');
      assert.match(res.json().error_description, /expired/);
    });

    it('requires the same redirect_uri as at connect (RFC 6749 §4.1.3)', async () => {
      const { code } = await issueCode(server, client);
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/other' });
      assert.equal(res.json().error, 'invalid_grant');
    });

    it('refuses a code issued to another client', async () => {
      const other = await createTestClient(server, ['https://other.example.com/cb']);
      const { code } = await issueCode(server, client);
      const res = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri }, { authorization: other.basic });
      assert.equal(res.json().error, 'invalid_grant');
    });

    it('revokes every token of a code that is used twice (RFC 6749 §4.1.2)', async () => {
      const { code } = await issueCode(server, client);
      const first = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
      const replay = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri });
      assert.equal(replay.statusCode, 400);
      assert.equal(replay.json().error, 'invalid_grant');
      const refresh = await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      assert.equal(refresh.json().error, 'invalid_grant', 'the winner’s refresh token is revoked');
      assert.equal(server.services.tokens.verifyAccessToken(first.access_token) !== null, true, 'signature still valid…');
      const grant = await server.services.database.db.selectFrom('grants').select('revoked_at').executeTakeFirstOrThrow();
      assert.notEqual(grant.revoked_at, null, '…but its grant is revoked, which the data API checks');
    });

    it('lets exactly one of two simultaneous exchanges of one code win, and the replay revokes the winner', async () => {
      for (let round = 0; round < 5; round++) {
        const { code } = await issueCode(server, client);
        const results = await Promise.all([1, 2].map(() => exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })));
        const statuses = results.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [200, 400]);
        const winner = results.find((r) => r.statusCode === 200)!.json();
        const refresh = await exchange({ grant_type: 'refresh_token', refresh_token: winner.refresh_token });
        assert.equal(refresh.json().error, 'invalid_grant');
      }
    });

    describe('PKCE (RFC 7636)', () => {
      const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
      const challenge = createHash('sha256').update(verifier).digest('base64url');

      it('requires the matching code_verifier', async () => {
        const { code } = await issueCode(server, client, { codeChallenge: challenge });
        const missing = await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri });
        assert.equal(missing.json().error, 'invalid_grant');
        const { code: code2 } = await issueCode(server, client, { codeChallenge: challenge });
        const wrong = await exchange({ grant_type: 'authorization_code', code: code2, redirect_uri: client.redirectUri, code_verifier: 'x'.repeat(43) });
        assert.equal(wrong.json().error, 'invalid_grant');
        const { code: code3 } = await issueCode(server, client, { codeChallenge: challenge });
        const right = await exchange({ grant_type: 'authorization_code', code: code3, redirect_uri: client.redirectUri, code_verifier: verifier });
        assert.equal(right.statusCode, 200);
      });
    });

    describe('refresh_token grant (RFC 9700 §4.14)', () => {
      it('rotates: a new refresh token each time, redirect_uri null, and Aiia’s extra fields ignored', async () => {
        const { code } = await issueCode(server, client);
        const first = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
        server.clock.advance(1000);
        const res = await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'accounts', redirect_uri: client.redirectUri });
        assert.equal(res.statusCode, 200, res.body);
        const second = res.json();
        assert.equal(second.redirect_uri, null);
        assert.notEqual(second.refresh_token, first.refresh_token);
        assert.equal(decodeJwt(second.access_token).sessionId, decodeJwt(first.access_token).sessionId);
      });

      it('revokes the whole family when a used refresh token comes back', async () => {
        const { code } = await issueCode(server, client);
        const first = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
        const second = (await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).json();
        const reuse = await exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
        assert.equal(reuse.json().error, 'invalid_grant');
        const afterReuse = await exchange({ grant_type: 'refresh_token', refresh_token: second.refresh_token });
        assert.equal(afterReuse.json().error, 'invalid_grant', 'the newest token of the family is revoked too');
      });

      it('lets exactly one of two simultaneous refreshes win, and revokes the family', async () => {
        const { code } = await issueCode(server, client);
        const first = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
        const results = await Promise.all([1, 2].map(() => exchange({ grant_type: 'refresh_token', refresh_token: first.refresh_token })));
        assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
        const winner = results.find((r) => r.statusCode === 200)!.json();
        assert.equal((await exchange({ grant_type: 'refresh_token', refresh_token: winner.refresh_token })).json().error, 'invalid_grant');
      });

      it('caps one-time tokens at the consent’s deletion deadline', async () => {
        const { code } = await issueCode(server, client, { scopes: 'accounts' });
        server.clock.advance(23.5 * 3600 * 1000 - 60_000);
        // The code is long expired by now; issue a new one for a consent created 23.5 h ago instead.
        const fresh = await issueCode(server, client, { scopes: 'accounts' });
        void code;
        const tokens = (await exchange({ grant_type: 'authorization_code', code: fresh.code, redirect_uri: client.redirectUri })).json();
        const refresh = decodeJwt(tokens.refresh_token);
        assert.ok(refresh.exp! <= Math.floor((server.clock.now() + 24 * 3600 * 1000) / 1000));
        server.clock.advance(24 * 3600 * 1000);
        const late = await exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
        assert.equal(late.json().error, 'invalid_grant');
      });

      it('gives regular-flow refresh tokens 14 days', async () => {
        const { code } = await issueCode(server, client, { scopes: 'accounts offline_access' });
        const tokens = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
        const refresh = decodeJwt(tokens.refresh_token);
        assert.equal(refresh.exp! - refresh.iat!, 14 * 24 * 3600);
        assert.equal(decodeJwt(tokens.access_token).scopes, 'Accounts OfflineAccess');
      });
    });

    describe('revocation (RFC 7009)', () => {
      it('revokes the grant of a refresh token and answers 200 for unknown tokens', async () => {
        const { code } = await issueCode(server, client);
        const tokens = (await exchange({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri })).json();
        const revoke = (token: string) =>
          server.app.inject({ method: 'POST', url: '/v1/oauth/revoke', headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${encodeURIComponent(token)}` });
        assert.equal((await revoke('not-a-token')).statusCode, 200);
        assert.equal((await revoke(tokens.refresh_token)).statusCode, 200);
        assert.equal((await exchange({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).json().error, 'invalid_grant');
      });
    });

    it('names unsupported grant types', async () => {
      const res = await exchange({ grant_type: 'password', username: 'a', password: 'b' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'unsupported_grant_type');
    });

    it('refuses duplicate JSON keys', async () => {
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: '{"grant_type":"authorization_code","code":"a","code":"b","redirect_uri":"x"}',
      });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error_description, /"code" appears more than once/);
    });

    it('accepts an ISO-8859-1 secret in Basic (RFC 7617, the seed’s C# sample)', async () => {
      const { rotateClientSecret } = await import('../../src/apps/apps.js');
      void rotateClientSecret;
      // Secrets Ferry issues are ASCII, but the header is decoded as ISO-8859-1: a Latin-1 byte is not an error.
      const latin = `Basic ${Buffer.from(`${client.clientId}:sécret`, 'latin1').toString('base64')}`;
      const res = await exchange({ grant_type: 'authorization_code', code: 'x', redirect_uri: client.redirectUri }, { authorization: latin });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_client');
    });
  });
}

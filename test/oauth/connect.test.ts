import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { flowParams, flowSessionIdFromHandle } from '../../src/flow/session.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, PUBLIC_URL, type TestClient, type TestServer } from '../helpers/server.js';

for (const dialect of DIALECTS) {
  describe(`GET /v1/oauth/connect (aiia-api.md §1, RFC 6749 §4.1) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server, ['https://app.example.com/callback', 'https://mydomain.com/aiia-callback/*']);
    });
    afterEach(async () => {
      await server.close();
    });

    const connect = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      server.app.inject({ method: 'GET', url: `/v1/oauth/connect?${new URLSearchParams(params)}`, headers });

    const base = () => ({ client_id: client.clientId, redirect_uri: client.redirectUri, response_type: 'code', scope: 'accounts' });

    it('answers the seed’s request with 301, no-store, and a Location into the hosted flow', async () => {
      const res = await connect(base());
      assert.equal(res.statusCode, 301);
      assert.equal(res.headers['cache-control'], 'no-store');
      const location = new URL(String(res.headers.location));
      assert.equal(location.origin + location.pathname, `${PUBLIC_URL}/flow/start`);
      const handle = location.searchParams.get('f')!;
      assert.ok(handle.length >= 43);
      const flow = await server.services.database.db
        .selectFrom('flow_sessions')
        .selectAll()
        .where('id', '=', flowSessionIdFromHandle(handle))
        .executeTakeFirstOrThrow();
      assert.equal(flow.scopes, 'accounts');
      assert.equal(flow.redirect_uri, client.redirectUri);
      assert.equal(flow.step, 'consent');
    });

    it('stores every §1 parameter with the flow', async () => {
      const res = await connect({
        ...base(),
        state: 'tenant-42',
        culture: 'se',
        providerId: 'TestDataBank1',
        email: 'jane@example.com',
        select_all_accounts: 'true',
        accountsGroupId: 'g1',
        accountsGroupName: 'Household',
        bank_account_numbers: 'DK5000400440116243, 1234567890',
      });
      assert.equal(res.statusCode, 301);
      const handle = new URL(String(res.headers.location)).searchParams.get('f')!;
      const flow = await server.services.database.db.selectFrom('flow_sessions').selectAll().where('id', '=', flowSessionIdFromHandle(handle)).executeTakeFirstOrThrow();
      assert.equal(flow.state, 'tenant-42');
      assert.deepEqual(flowParams(flow), {
        culture: 'se',
        providerId: 'TestDataBank1',
        email: 'jane@example.com',
        consentId: null,
        selectAllAccounts: true,
        accountsGroupId: 'g1',
        accountsGroupName: 'Household',
        bankAccountNumbers: ['DK5000400440116243', '1234567890'],
      });
    });

    it('maps the deprecated flow parameter onto scopes', async () => {
      const oneTime = await connect({ ...base(), scope: '', flow: 'OneTimeUser' });
      const persistent = await connect({ ...base(), scope: '', flow: 'PersistentUser' });
      const scopesOf = async (res: Awaited<ReturnType<typeof connect>>) => {
        const handle = new URL(String(res.headers.location)).searchParams.get('f')!;
        return (await server.services.database.db.selectFrom('flow_sessions').select('scopes').where('id', '=', flowSessionIdFromHandle(handle)).executeTakeFirstOrThrow()).scopes;
      };
      assert.equal(await scopesOf(oneTime), 'accounts');
      assert.equal(await scopesOf(persistent), 'accounts offline_access');
    });

    it('accepts a redirect_uri matching a wildcard registration', async () => {
      const res = await connect({ ...base(), redirect_uri: 'https://mydomain.com/aiia-callback/tenant/42' });
      assert.equal(res.statusCode, 301);
    });

    describe('errors before the redirect URI is trusted are a page, never a redirect (RFC 6749 §4.1.2.1)', () => {
      const cases: Array<[string, () => Record<string, string>]> = [
        ['unknown client_id', () => ({ ...base(), client_id: 'nobody' })],
        ['missing client_id', () => ({ redirect_uri: client.redirectUri, response_type: 'code' })],
        ['unregistered redirect_uri', () => ({ ...base(), redirect_uri: 'https://evil.example.com/callback' })],
        ['redirect_uri escaping the wildcard', () => ({ ...base(), redirect_uri: 'https://mydomain.com/aiia-callback/../admin' })],
        ['missing redirect_uri', () => ({ client_id: client.clientId, response_type: 'code' })],
      ];
      for (const [name, params] of cases) {
        it(name, async () => {
          const res = await connect(params(), { 'accept-language': 'da-DK,da;q=0.9' });
          assert.equal(res.statusCode, 400);
          assert.equal(res.headers.location, undefined);
          assert.match(String(res.headers['content-type']), /text\/html/);
          assert.match(res.body, /<html lang="da">/);
          assert.match(res.body, /Noget gik galt/);
        });
      }
    });

    describe('errors after it go back to the app with error, error_description, state and iss', () => {
      const cases: Array<[string, Record<string, string>, string]> = [
        ['response_type other than code', { response_type: 'token' }, 'unsupported_response_type'],
        ['unknown scope', { scope: 'accounts payments' }, 'invalid_scope'],
        ['offline_access without accounts', { scope: 'offline_access' }, 'invalid_scope'],
        ['plain PKCE', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
        ['malformed code_challenge', { code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
        ['unknown flow', { scope: '', flow: 'Sometimes' }, 'invalid_request'],
        ['flow contradicting scope', { flow: 'PersistentUser' }, 'invalid_request'],
        ['bad select_all_accounts', { select_all_accounts: 'yes' }, 'invalid_request'],
        ['bank_account_numbers without providerId', { bank_account_numbers: 'DK5000400440116243' }, 'invalid_request'],
        ['bad email', { email: 'not an email' }, 'invalid_request'],
      ];
      for (const [name, extra, error] of cases) {
        it(name, async () => {
          const res = await connect({ ...base(), state: 's/1 2', ...extra });
          assert.equal(res.statusCode, 302);
          const location = new URL(String(res.headers.location));
          assert.equal(location.origin + location.pathname, client.redirectUri);
          assert.equal(location.searchParams.get('error'), error);
          assert.ok(location.searchParams.get('error_description'));
          assert.equal(location.searchParams.get('state'), 's/1 2');
          assert.equal(location.searchParams.get('iss'), PUBLIC_URL);
          assert.equal(location.searchParams.get('code'), null);
        });
      }

      it('a duplicated parameter (RFC 6749 §3.1)', async () => {
        const res = await server.app.inject({
          method: 'GET',
          url: `/v1/oauth/connect?${new URLSearchParams(base())}&scope=accounts`,
        });
        assert.equal(res.statusCode, 302);
        assert.equal(new URL(String(res.headers.location)).searchParams.get('error'), 'invalid_request');
      });
    });

    it('publishes RFC 8414 metadata', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
      const metadata = res.json();
      assert.equal(metadata.issuer, PUBLIC_URL);
      assert.equal(metadata.token_endpoint, `${PUBLIC_URL}/v1/oauth/token`);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    });
  });
}

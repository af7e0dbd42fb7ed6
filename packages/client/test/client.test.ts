import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  FerryApiError,
  FerryAuthorizationError,
  FerryBearerError,
  FerryClient,
  FerryError,
  FerryNetworkError,
  FerryOAuthError,
  TokenSession,
  verifyWebhook,
  type FerryTokens,
  type Transaction,
} from '../src/index.js';
import { freePort } from '../../../test/helpers/listen.js';
import { recordingFetch, registerApp, startFerry, walkConnectFlow, type RegisteredApp, type RunningFerry } from './running-ferry.js';

const HOUR = 3_600_000;

/** Asserts that `promise` rejects with a FerryError of the class and code, and returns it. */
async function rejectsWith<E extends FerryError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E, code: string): Promise<E> {
  const error = await promise.then(
    () => assert.fail(`expected ${type.name} ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.equal(error.error, code, String(error));
  return error;
}

describe('@ferry/client against a running Ferry', () => {
  let ferry: RunningFerry;
  let app: RegisteredApp;
  let client: FerryClient;
  /** The client's clock: tests move it to make access tokens expire. */
  let offset = 0;
  const now = () => Date.now() + offset;

  /** The whole app side of a connection: connect URL → the user's flow → callback → code exchange. */
  async function connect(options: { scope?: 'accounts' | 'accounts offline_access'; providerId?: string; username?: string } = {}) {
    const { url, state, codeVerifier } = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: options.scope ?? 'accounts offline_access', culture: 'en' });
    const callback = await walkConnectFlow(ferry, url, options);
    const { code, consentId } = client.parseCallback(callback, { state });
    assert.ok(consentId);
    const tokens = await client.exchangeCode({ code, redirectUri: app.redirectUri, codeVerifier });
    return { consentId, tokens };
  }

  before(async () => {
    ferry = await startFerry();
    app = await registerApp(ferry);
    client = new FerryClient({ baseUrl: ferry.baseUrl, clientId: app.clientId, clientSecret: app.clientSecret, now });
  });
  after(() => ferry.close());

  describe('connect (RFC 6749 §4.1, RFC 7636, RFC 9207)', () => {
    it('builds a connect URL with a fresh state and an S256 challenge, which Ferry accepts', async () => {
      const first = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts', providerId: 'TestDataBank1', selectAllAccounts: true });
      const second = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts' });
      const url = new URL(first.url);
      assert.equal(`${url.origin}${url.pathname}`, `${ferry.baseUrl}/v1/oauth/connect`);
      const query = Object.fromEntries(url.searchParams);
      assert.equal(query.client_id, app.clientId);
      assert.equal(query.redirect_uri, app.redirectUri);
      assert.equal(query.response_type, 'code');
      assert.equal(query.scope, 'accounts');
      assert.equal(query.providerId, 'TestDataBank1');
      assert.equal(query.select_all_accounts, 'true');
      assert.equal(query.state, first.state);
      assert.match(first.state, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
      assert.notEqual(first.state, second.state);
      assert.match(first.codeVerifier, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(first.codeVerifier, second.codeVerifier);
      assert.equal(query.code_challenge_method, 'S256');
      assert.equal(query.code_challenge, createHash('sha256').update(first.codeVerifier).digest('base64url'));
      assert.equal(url.searchParams.has('culture'), false, 'absent options are not sent');

      const answer = await fetch(first.url, { redirect: 'manual' });
      assert.equal(answer.status, 301);
      assert.ok(answer.headers.get('location')!.startsWith(`${ferry.baseUrl}/flow/`));
    });

    it('keeps a given state and code verifier', async () => {
      const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
      const built = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts', state: 'my-state', codeVerifier: verifier });
      assert.equal(built.state, 'my-state');
      assert.equal(built.codeVerifier, verifier);
      // RFC 7636 Appendix B.
      assert.equal(new URL(built.url).searchParams.get('code_challenge'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    });

    it('checks the callback: issuer, then state, then error or code', async () => {
      const { url, state } = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts' });
      const callback = new URL(await walkConnectFlow(ferry, url));
      assert.equal(callback.searchParams.get('iss'), ferry.baseUrl);
      assert.ok(client.parseCallback(callback, { state }).code);
      assert.ok(client.parseCallback(callback.searchParams, { state }).code, 'from URLSearchParams');
      assert.ok(client.parseCallback(Object.fromEntries(callback.searchParams), { state }).code, 'from a parsed query object');

      const wrongState = catchError(() => client.parseCallback(callback, { state: 'another-tab' }));
      assert.ok(wrongState instanceof FerryAuthorizationError);
      assert.equal(wrongState.error, 'state_mismatch');
      assert.equal(wrongState.status, null);

      const forged = new URL(callback);
      forged.searchParams.set('iss', 'https://evil.example');
      assert.equal(catchError(() => client.parseCallback(forged, { state }))?.error, 'issuer_mismatch');

      const cancelled = `${app.redirectUri}?error=access_denied&error_description=The+user+cancelled.&state=${state}&iss=${encodeURIComponent(ferry.baseUrl)}`;
      const denied = catchError(() => client.parseCallback(cancelled, { state }));
      assert.ok(denied instanceof FerryAuthorizationError);
      assert.equal(denied.error, 'access_denied');
      assert.equal(denied.errorDescription, 'The user cancelled.');
      assert.equal(denied.state, state);

      // Aiia's way of saying the same: back with neither code nor error.
      assert.equal(catchError(() => client.parseCallback(`${app.redirectUri}?state=${state}`, { state }))?.error, 'invalid_callback');
    });
  });

  describe('tokens (RFC 6749 §4.1.3, §6; RFC 9700 §4.14)', () => {
    it('exchanges the code for tokens, with expiresAt', async () => {
      const before = now();
      const { tokens } = await connect();
      assert.equal(tokens.tokenType, 'bearer');
      assert.equal(tokens.redirectUri, app.redirectUri);
      assert.ok(tokens.accessToken.split('.').length === 3 && tokens.refreshToken.split('.').length === 3, 'JWTs');
      assert.ok(tokens.expiresAt >= before + HOUR && tokens.expiresAt <= now() + HOUR);
    });

    it('refuses a wrong code verifier (invalid_grant) and wrong client credentials (invalid_client, with a Basic challenge)', async () => {
      const { url, state } = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts' });
      const { code } = client.parseCallback(await walkConnectFlow(ferry, url), { state });
      const other = await client.createConnectUrl({ redirectUri: app.redirectUri, scope: 'accounts' });
      const stranger = new FerryClient({ baseUrl: ferry.baseUrl, clientId: app.clientId, clientSecret: 'not-the-secret' });
      const refused = await rejectsWith(stranger.exchangeCode({ code, redirectUri: app.redirectUri, codeVerifier: other.codeVerifier }), FerryOAuthError, 'invalid_client');
      assert.equal(refused.status, 401);
      assert.match(refused.wwwAuthenticate ?? '', /^Basic /);
      assert.equal(refused.kind, 'oauth');
      const wrong = await rejectsWith(client.exchangeCode({ code, redirectUri: app.redirectUri, codeVerifier: other.codeVerifier }), FerryOAuthError, 'invalid_grant');
      assert.equal(wrong.status, 400);
      assert.ok(wrong.errorDescription);
      assert.equal(wrong.operation, 'POST /v1/oauth/token');
    });

    it('refreshes with rotation, and the session keeps the new refresh token', async () => {
      const { tokens } = await connect();
      const saved: FerryTokens[] = [];
      const session = client.session(tokens, { onTokens: (t) => void saved.push(t) });
      assert.equal(await session.getAccessToken(), tokens.accessToken, 'no refresh while the token is fresh');

      const rotated = await session.refresh();
      assert.notEqual(rotated.refreshToken, tokens.refreshToken);
      assert.equal(rotated.redirectUri, null);
      assert.deepEqual(saved, [rotated], 'onTokens saw the new tokens');
      assert.equal(session.tokens.refreshToken, rotated.refreshToken);
      assert.equal(await session.getAccessToken(), rotated.accessToken);

      const again = await session.refresh();
      assert.notEqual(again.refreshToken, rotated.refreshToken, 'rotates on every refresh, from the kept token');
      assert.ok((await client.listAccounts(session)).length > 0);
    });

    it('refreshes once for any number of concurrent callers when the access token is about to expire', async () => {
      const recorder = recordingFetch();
      const counted = new FerryClient({ baseUrl: ferry.baseUrl, clientId: app.clientId, clientSecret: app.clientSecret, fetch: recorder.fetch, now });
      const { tokens } = await connect();
      let persisted = 0;
      const session = counted.session(tokens, { onTokens: () => void persisted++, now, refreshBeforeSeconds: 120 });

      offset = HOUR - 60_000; // one minute left: inside the two-minute margin
      ferry.server.clock.advance(1000); // new tokens differ from the old in their iat
      try {
        assert.equal(session.needsRefresh, true);
        const accessTokens = await Promise.all(Array.from({ length: 8 }, () => session.getAccessToken()));
        assert.equal(new Set(accessTokens).size, 1);
        assert.equal(accessTokens[0], session.tokens.accessToken);
        assert.notEqual(session.tokens.refreshToken, tokens.refreshToken, 'refreshed');
        assert.equal(recorder.requests.filter((r) => r === 'POST /v1/oauth/token').length, 1, 'one refresh for eight callers');
        assert.equal(persisted, 1);

        // Data calls that start together while a refresh is due share it too.
        offset += HOUR;
        const lists = await Promise.all(Array.from({ length: 5 }, () => counted.listAccounts(session)));
        assert.equal(new Set(lists.map((l) => l.length)).size, 1);
        assert.equal(recorder.requests.filter((r) => r === 'POST /v1/oauth/token').length, 2);
        assert.equal(recorder.requests.filter((r) => r === 'GET /v1/accounts').length, 5);
      } finally {
        offset = 0;
      }
    });

    it('a spent refresh token is refused, and presenting it revokes the grant (so the session must be the only one refreshing)', async () => {
      const { tokens } = await connect();
      const session = client.session(tokens);
      await session.refresh();
      await rejectsWith(client.refresh(tokens.refreshToken), FerryOAuthError, 'invalid_grant');
      await rejectsWith(client.listAccounts(session), FerryBearerError, 'invalid_token');
      await rejectsWith(session.refresh(), FerryOAuthError, 'invalid_grant');
    });
  });

  describe('data (aiia-api.md §4)', () => {
    let session: TokenSession;
    let consentId: string;

    before(async () => {
      const connected = await connect();
      consentId = connected.consentId;
      session = client.session(connected.tokens);
    });

    const serverTransactionCount = async (accountId: string, filter: { from?: string; to?: string } = {}) => {
      let query = ferry.server.services.database.db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('is_deleted', '=', 0);
      if (filter.from) query = query.where('date', '>=', filter.from);
      if (filter.to) query = query.where('date', '<', filter.to);
      return Number((await query.executeTakeFirstOrThrow()).n);
    };

    it('lists the consent’s accounts and reads each one', async () => {
      const accounts = await client.listAccounts(session);
      const stored = await ferry.server.services.database.db.selectFrom('accounts').select('id').where('consent_id', '=', consentId).execute();
      assert.equal(accounts.length, stored.length);
      assert.ok(accounts.length >= 3);
      for (const account of accounts) {
        assert.equal(account.syncStatus, 'Finished');
        assert.deepEqual(await client.getAccount(session, account.id), account);
      }
      assert.equal(await client.allAccountsSelected(session, consentId), true);
    });

    it('iterates every transaction of an account, page after page: as many as the server holds, newest first', async () => {
      let pagesSeen = 0;
      for (const account of await client.listAccounts(session)) {
        const pages = [];
        for await (const page of client.transactions(session, account.id, { pageSize: 25 }).pages()) pages.push(page);
        const all: Transaction[] = [];
        for await (const transaction of client.transactions(session, account.id)) all.push(transaction);
        const expected = await serverTransactionCount(account.id);
        assert.ok(expected > 0, `${account.name} has a history`);
        assert.equal(all.length, expected, account.name);
        assert.equal(pages.flatMap((p) => p.transactions).length, expected);
        assert.equal(pages.length, Math.ceil(expected / 25));
        pagesSeen = Math.max(pagesSeen, pages.length);
        assert.equal(pages.at(-1)!.pagingToken, null);
        assert.equal(new Set(all.map((t) => t.id)).size, all.length, 'no transaction twice');
        assert.ok(all.every((t, i) => i === 0 || all[i - 1]!.date >= t.date), 'newest first');
        assert.ok(all.every((t) => t.accountId === account.id));
        assert.deepEqual(await client.getTransaction(session, account.id, all[0]!.id), all[0]);
        assert.equal((await client.transactions(session, account.id, { pageSize: 1000 }).toArray()).length, expected);
      }
      assert.ok(pagesSeen > 10, `a long history, many pages (${pagesSeen})`);
    });

    it('queries transactions by interval and amount, across pages', async () => {
      const [account] = await client.listAccounts(session);
      const end = new Date(ferry.server.clock.now());
      const start = new Date(end.getTime() - 90 * 86_400_000);
      const inInterval = await client.queryTransactions(session, account!.id, { interval: { start, end }, pageSize: 20 }).toArray();
      const from = start.toISOString().slice(0, 10);
      const to = new Date(Math.ceil(end.getTime() / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
      assert.ok(inInterval.length > 20, 'more than one page');
      assert.equal(inInterval.length, await serverTransactionCount(account!.id, { from, to }));
      assert.ok(inInterval.every((t) => t.date >= from && t.date < to));

      const spending = client.queryTransactions(session, account!.id, { amountValueBetween: { max: 0 }, pageSize: 200 });
      let n = 0;
      for await (const t of spending) {
        assert.ok(t.transactionAmount.value <= 0);
        n++;
      }
      assert.ok(n > 0);
      const page = await client.queryTransactionPage(session, account!.id, { interval: `${start.toISOString()}/${end.toISOString()}`, pageSize: 5 }, { includeDeleted: true });
      assert.equal(page.transactions.length, 5);
      assert.ok(page.pagingToken);
    });

    it('requests an update: queued at a bank that allows it, a supervised login where the bank needs the user', async () => {
      assert.deepEqual(await client.requestUpdate(session), { status: 'AllQueued', authUrl: null });

      const otp = await connect({ providerId: 'SandboxOtpBank', username: 'bob' });
      const needsUser = await rejectsWith(client.requestUpdate(otp.tokens.accessToken), FerryApiError, 'invalid_request');
      assert.equal(needsUser.status, 400);
      const supervised = await client.requestUpdate(otp.tokens.accessToken, { redirectUrl: app.redirectUri });
      assert.equal(supervised.status, 'SupervisedLoginRequired');
      assert.ok(supervised.authUrl?.startsWith(`${ferry.baseUrl}/flow/start?f=`));
    });

    it('answers an unknown account as a typed not_found', async () => {
      const missing = await rejectsWith(client.getAccount(session, 'no-such-account'), FerryApiError, 'not_found');
      assert.equal(missing.status, 404);
      assert.equal(missing.operation, 'GET /v1/accounts/{accountId}');
      await assert.rejects(client.getAccount(session, ''), TypeError, 'an empty id is not another route');
    });

    it('revoking the consent ends access: the next data call is a 401 invalid_token with its Bearer challenge (RFC 6750 §3.1)', async () => {
      const active = await client.getConsent(consentId);
      assert.equal(active.status, 'Active');
      assert.deepEqual(active.scopes, ['accounts', 'offline_access']);
      assert.equal(active.oneTime, false);

      const receipt = await client.revokeConsent(consentId);
      assert.equal(receipt.status, 'Deleted');
      assert.equal(receipt.receipt?.reason, 'ConsentRevoked');
      assert.equal((await client.getConsent(consentId)).status, 'Deleted');

      const refused = await rejectsWith(client.listAccounts(session), FerryBearerError, 'invalid_token');
      assert.equal(refused.status, 401);
      assert.equal(refused.kind, 'bearer');
      assert.match(refused.wwwAuthenticate ?? '', /^Bearer /);
      assert.equal(refused.challenge?.scheme, 'Bearer');
      assert.equal(refused.challenge?.params.error, 'invalid_token');
      assert.equal(refused.retryable, false);
      await rejectsWith(client.transactions(session, 'any').toArray(), FerryBearerError, 'invalid_token');

      await rejectsWith(client.refresh(session.tokens.refreshToken), FerryOAuthError, 'invalid_grant');
      const other = await rejectsWith(new FerryClient({ baseUrl: ferry.baseUrl, clientId: app.clientId, clientSecret: 'wrong' }).getConsent(consentId), FerryOAuthError, 'invalid_client');
      assert.equal(other.status, 401);
    });
  });

  describe('the app’s webhooks and the banks', () => {
    it('sends a test webhook that verifyWebhook accepts, and lists, reads and redelivers it', async () => {
      const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
      const receiver = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          received.push({ headers: request.headers, body: Buffer.concat(chunks) });
          response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const secret = 'whsec_client_e2e';
        const hooked = await registerApp(ferry, { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, webhookSecret: secret });
        const appClient = new FerryClient({ baseUrl: ferry.baseUrl, clientId: hooked.clientId, clientSecret: hooked.clientSecret });

        const queued = await appClient.sendTestWebhook();
        assert.equal(queued.event, 'WebhookTest');
        assert.equal(queued.status, 'Pending');
        await ferry.server.services.webhooks.runDue();
        assert.equal(received.length, 1);
        const event = verifyWebhook(secret, received[0]!.headers, received[0]!.body, { now: ferry.server.clock.now() });
        assert.equal(event.event, 'WebhookTest');
        assert.equal(event.eventId, queued.eventId);

        const delivered = await appClient.getWebhookDelivery(queued.id);
        assert.equal(delivered.status, 'Delivered');
        assert.deepEqual((await appClient.listWebhookDeliveries({ eventId: queued.eventId })).map((d) => d.id), [queued.id]);
        const again = await appClient.redeliverWebhook(queued.id);
        assert.equal(again.redeliveryOf, queued.id);
        assert.equal(again.eventId, queued.eventId);
        await rejectsWith(appClient.getWebhookDelivery('00000000-0000-0000-0000-000000000000'), FerryApiError, 'not_found');
        await rejectsWith(client.getWebhookDelivery(queued.id), FerryApiError, 'not_found');
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });

    it('lists the banks without credentials', async () => {
      const anonymous = new FerryClient({ baseUrl: `${ferry.baseUrl}/`, clientId: 'anyone' });
      const danish = await anonymous.listProviders({ countryCode: 'DK' });
      assert.ok(danish.some((p) => p.id === 'TestDataBank1'));
      assert.ok(danish.every((p) => p.countryCode === 'DK'));
      assert.equal((await anonymous.getProvider('TestDataBank1')).countryCode, 'DK');
      await rejectsWith(anonymous.getProvider('NoSuchBank'), FerryApiError, 'not_found');
      await assert.rejects(anonymous.getConsent('x'), TypeError, 'app calls need the client secret');
    });
  });

  it('reports a server it cannot reach as a FerryNetworkError', async () => {
    const port = await freePort();
    const unreachable = new FerryClient({ baseUrl: `http://127.0.0.1:${port}`, clientId: 'x', clientSecret: 'y' });
    const error = await rejectsWith(unreachable.listProviders(), FerryNetworkError, 'network_error');
    assert.equal(error.status, null);
    assert.equal(error.retryable, true);
    assert.ok(error.cause);
  });
});

function catchError(fn: () => unknown): FerryError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  return undefined;
}

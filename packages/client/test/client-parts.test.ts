import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  basicAuthorization,
  createPkce,
  FerryApiError,
  FerryBearerError,
  FerryClient,
  FerryOAuthError,
  isFerryError,
  parseChallenge,
  TokenSession,
  TransactionPages,
  type FerryTokens,
  type TransactionPage,
} from '../src/index.js';

/** The parts that need no server: token sessions on a fake refresher, challenges, paging, errors. */

const tokens = (n: number, expiresAt = Date.now() + 3_600_000): FerryTokens => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt, tokenType: 'bearer', redirectUri: null });

describe('TokenSession', () => {
  it('refreshes from the newest refresh token, once for concurrent callers, and calls onTokens before answering', async () => {
    const presented: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let n = 0;
    const saved: string[] = [];
    const session = new TokenSession(
      async (refreshToken) => {
        presented.push(refreshToken);
        await gate;
        return tokens(++n);
      },
      tokens(0, Date.now() + 30_000),
      { onTokens: async (t) => void saved.push(t.refreshToken) },
    );
    assert.equal(session.needsRefresh, true, 'inside the 60-second margin');
    const waiting = Promise.all([session.getAccessToken(), session.getAccessToken(), session.refresh().then((t) => t.accessToken)]);
    release();
    assert.deepEqual(await waiting, ['access-1', 'access-1', 'access-1']);
    assert.deepEqual(presented, ['refresh-0']);
    assert.deepEqual(saved, ['refresh-1']);
    assert.equal(await session.getAccessToken(), 'access-1', 'fresh: no refresh');
    await session.refresh();
    assert.deepEqual(presented, ['refresh-0', 'refresh-1'], 'the rotated token is the one presented next');
  });

  it('stops after invalid_grant (presenting a spent token again cannot help), but retries after a network failure', async () => {
    let calls = 0;
    const failing = new TokenSession(async () => {
      calls++;
      throw new FerryOAuthError({ error: 'invalid_grant', status: 400 });
    }, tokens(0, 0));
    await assert.rejects(failing.getAccessToken(), (e: unknown) => isFerryError(e, 'invalid_grant'));
    await assert.rejects(failing.getAccessToken(), (e: unknown) => isFerryError(e, 'invalid_grant'));
    assert.equal(calls, 1);

    let attempts = 0;
    const flaky = new TokenSession(async () => {
      if (++attempts === 1) throw new TypeError('fetch failed');
      return tokens(1);
    }, tokens(0, 0));
    await assert.rejects(flaky.getAccessToken(), TypeError);
    assert.equal(await flaky.getAccessToken(), 'access-1');
  });

  it('passes on a failure to persist, keeping the new tokens in memory', async () => {
    const session = new TokenSession(async () => tokens(1), tokens(0, 0), {
      onTokens: () => {
        throw new Error('disk full');
      },
    });
    await assert.rejects(session.getAccessToken(), /disk full/);
    assert.equal(session.tokens.refreshToken, 'refresh-1');
  });
});

describe('TransactionPages', () => {
  const page = (ids: string[], pagingToken: string | null): TransactionPage => ({ transactions: ids.map((id) => ({ id }) as TransactionPage['transactions'][number]), pagingToken });

  it('follows pagingToken until null, lazily and from the start on every iteration', async () => {
    const asked: Array<string | null> = [];
    const pages = new TransactionPages(async (token) => {
      asked.push(token);
      return token === null ? page(['a', 'b'], 't1') : token === 't1' ? page(['c'], 't2') : page([], null);
    });
    assert.deepEqual(asked, []);
    assert.deepEqual((await pages.toArray()).map((t) => t.id), ['a', 'b', 'c']);
    const ids: string[] = [];
    for await (const t of pages) ids.push(t.id);
    assert.deepEqual(ids, ['a', 'b', 'c']);
    assert.deepEqual(asked, [null, 't1', 't2', null, 't1', 't2']);
  });

  it('stops instead of looping when a server repeats a token', async () => {
    const pages = new TransactionPages(async () => page(['a'], 'same'));
    await assert.rejects(pages.toArray(), /repeated a pagingToken/);
  });
});

describe('errors and challenges (RFC 6750 §3, RFC 9110 §11.6.1)', () => {
  it('parses a Bearer challenge with quoted and token values', () => {
    assert.deepEqual(parseChallenge('Bearer realm="Ferry", error="invalid_token", error_description="The access token was revoked, or its consent ended."'), {
      scheme: 'Bearer',
      params: { realm: 'Ferry', error: 'invalid_token', error_description: 'The access token was revoked, or its consent ended.' },
    });
    assert.deepEqual(parseChallenge('Bearer error=insufficient_scope, scope="accounts \\"x\\""'), { scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'accounts "x"' } });
    assert.deepEqual(parseChallenge('Basic'), { scheme: 'Basic', params: {} });
  });

  it('carries the code, the status, the challenge and Retry-After, and says what is worth retrying', () => {
    const bearer = new FerryBearerError({ error: 'invalid_token', status: 401, wwwAuthenticate: 'Bearer error="invalid_token"', operation: 'GET /v1/accounts' });
    assert.equal(bearer.challenge?.params.error, 'invalid_token');
    assert.equal(bearer.message, 'GET /v1/accounts: invalid_token (401)');
    assert.equal(bearer.name, 'FerryBearerError');
    assert.equal(bearer.retryable, false);
    const busy = new FerryApiError({ error: 'temporarily_unavailable', status: 503, retryAfter: 5 });
    assert.equal(busy.retryable, true);
    assert.equal(busy.retryAfter, 5);
    assert.ok(isFerryError(busy) && !isFerryError(busy, 'invalid_token'));
  });

  it('maps answers to error classes, reading Retry-After', async () => {
    const answer = (status: number, body: string, headers: Record<string, string> = {}) =>
      new FerryClient({ baseUrl: 'https://ferry.test', clientId: 'c', clientSecret: 's', fetch: async () => new Response(body, { status, headers }) });
    const slow = await answer(429, '{"error":"slow_down","error_description":"Too many requests"}', { 'retry-after': '7' }).exchangeCode({ code: 'c', redirectUri: 'r', codeVerifier: 'v' }).catch((e: unknown) => e);
    assert.ok(slow instanceof FerryOAuthError && slow.error === 'slow_down' && slow.retryAfter === 7);
    const html = await answer(502, '<html>Bad gateway</html>').listAccounts('t').catch((e: unknown) => e);
    assert.ok(html instanceof FerryApiError && html.error === 'server_error' && html.status === 502);
    const notJson = await answer(200, 'hello').listAccounts('t').catch((e: unknown) => e);
    assert.ok(notJson instanceof FerryApiError && notJson.error === 'invalid_response');
    const forbidden = await answer(403, '{"error":"insufficient_scope","error_description":"no"}').listAccounts('t').catch((e: unknown) => e);
    assert.ok(forbidden instanceof FerryBearerError && forbidden.error === 'insufficient_scope');
  });
});

describe('encodings', () => {
  it('HTTP Basic: Latin-1 as Aiia’s samples send it, form-encoded (RFC 6749 §2.3.1) when Latin-1 cannot hold it', () => {
    assert.equal(basicAuthorization('app', 'sécret'), `Basic ${Buffer.from('app:sécret', 'latin1').toString('base64')}`);
    assert.equal(basicAuthorization('app', 'パス word'), `Basic ${Buffer.from(`app:${encodeURIComponent('パス')}+word`, 'latin1').toString('base64')}`);
  });

  it('PKCE S256 (RFC 7636 Appendix B), and only verifiers the RFC allows', async () => {
    assert.equal((await createPkce('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).codeChallenge, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    await assert.rejects(createPkce('too-short'), TypeError);
    await assert.rejects(createPkce(`${'a'.repeat(43)} `), TypeError);
  });

  it('keeps a base URL’s path prefix and encodes ids in paths', async () => {
    const urls: string[] = [];
    const client = new FerryClient({
      baseUrl: 'https://example.com/ferry/',
      clientId: 'c',
      fetch: async (url) => (urls.push(url), new Response('{"id":"x"}', { status: 200 })),
    });
    await client.getAccount('t', 'a/b?c');
    assert.deepEqual(urls, ['https://example.com/ferry/v1/accounts/a%2Fb%3Fc']);
    const { url } = await client.createConnectUrl({ redirectUri: 'https://app.example/cb', scope: 'accounts offline_access', bankAccountNumbers: ['DK1', 'DK2'] });
    const query = new URL(url).searchParams;
    assert.equal(new URL(url).pathname, '/ferry/v1/oauth/connect');
    assert.equal(query.get('scope'), 'accounts offline_access');
    assert.equal(query.get('bank_account_numbers'), 'DK1,DK2');
  });
});

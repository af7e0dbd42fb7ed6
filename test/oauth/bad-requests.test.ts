import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, issueCode, type TestClient, type TestServer } from '../helpers/server.js';

/** A small deterministic PRNG, so a failing case can be reproduced from its index. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OAUTH_ERRORS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']);

interface BadRequest {
  name: string;
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

function tokenBodies(client: TestClient, code: string, random: () => number): BadRequest[] {
  const auth = { authorization: client.basic };
  const json = (payload: string | Buffer, extra: Record<string, string> = {}) => ({ headers: { ...auth, 'content-type': 'application/json', ...extra }, payload });
  const cases: Array<[string, { headers: Record<string, string>; payload?: string | Buffer }]> = [
    ['empty JSON body', json('')],
    ['JSON null', json('null')],
    ['JSON array', json('[]')],
    ['JSON string', json('"grant_type"')],
    ['JSON number', json('42')],
    ['number value', json('{"grant_type":"authorization_code","code":1}')],
    ['boolean value', json('{"grant_type":true}')],
    ['nested object', json('{"grant_type":{"a":"b"}}')],
    ['array value', json('{"grant_type":["authorization_code"]}')],
    ['null value', json('{"grant_type":null}')],
    ['trailing comma', json('{"grant_type":"authorization_code",}')],
    ['single quotes', json("{'grant_type':'authorization_code'}")],
    ['unterminated', json('{"grant_type":"authorization_code"')],
    ['duplicate key', json('{"grant_type":"refresh_token","grant_type":"authorization_code"}')],
    ['__proto__ key', json('{"__proto__":{"grant_type":"authorization_code"}}')],
    ['invalid UTF-8', json(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x22, 0x22, 0x7d]))],
    ['UTF-16 body', json(Buffer.from('{"grant_type":"authorization_code"}', 'utf16le'))],
    ['huge body', json(`{"grant_type":"authorization_code","code":"${'a'.repeat(70 * 1024)}"}`)],
    ['huge code', json(JSON.stringify({ grant_type: 'authorization_code', code: 'a'.repeat(5000), redirect_uri: client.redirectUri }))],
    ['missing grant_type', json(JSON.stringify({ code, redirect_uri: client.redirectUri }))],
    ['empty grant_type', json(JSON.stringify({ grant_type: '', code }))],
    ['unknown grant_type', json(JSON.stringify({ grant_type: 'client_credentials' }))],
    ['implicit grant', json(JSON.stringify({ grant_type: 'implicit' }))],
    ['missing code', json(JSON.stringify({ grant_type: 'authorization_code', redirect_uri: client.redirectUri }))],
    ['missing redirect_uri', json(JSON.stringify({ grant_type: 'authorization_code', code: 'nope' }))],
    ['made-up code', json(JSON.stringify({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: client.redirectUri }))],
    ['code with control chars', json(JSON.stringify({ grant_type: 'authorization_code', code: 'a\u0000b', redirect_uri: client.redirectUri }))],
    ['missing refresh_token', json(JSON.stringify({ grant_type: 'refresh_token' }))],
    ['garbage refresh_token', json(JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'a.b.c' }))],
    ['alg none refresh token', json(JSON.stringify({ grant_type: 'refresh_token', refresh_token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"role":"RefreshToken","exp":9999999999}').toString('base64url')}.` }))],
    ['bad code_verifier', json(JSON.stringify({ grant_type: 'authorization_code', code: 'nope', redirect_uri: client.redirectUri, code_verifier: '!!' }))],
    ['no content type', { headers: auth, payload: 'grant_type=authorization_code' }],
    ['text/plain', { headers: { ...auth, 'content-type': 'text/plain' }, payload: 'grant_type=authorization_code' }],
    ['multipart', { headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\n\r\n--x--' }],
    ['xml', { headers: { ...auth, 'content-type': 'application/xml' }, payload: '<grant_type/>' }],
    ['json charset latin1', json('{"grant_type":"authorization_code"}', { 'content-type': 'application/json; charset=iso-8859-1' })],
    ['form duplicate', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=authorization_code&grant_type=refresh_token' }],
    ['form bad percent', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=%E0%A4%A' }],
    ['form empty', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' }],
    ['form only ampersands', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: '&&&=&' }],
    ['no auth', { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ grant_type: 'authorization_code', code }) }],
    ['Bearer auth', { headers: { authorization: 'Bearer abc', 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic without colon', { headers: { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}`, 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic not base64', { headers: { authorization: 'Basic !!!!', 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic empty', { headers: { authorization: 'Basic ', 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic huge', { headers: { authorization: `Basic ${Buffer.from(`${'a'.repeat(3000)}:${'b'.repeat(3000)}`).toString('base64')}`, 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic unknown client', { headers: { authorization: `Basic ${Buffer.from('ghost:secret').toString('base64')}`, 'content-type': 'application/json' }, payload: '{}' }],
    ['Basic and body secret', json(JSON.stringify({ grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: 'x' }))],
    ['body client_id mismatch', json(JSON.stringify({ grant_type: 'authorization_code', code, client_id: 'other' }))],
    ['body secret without id', { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ grant_type: 'authorization_code', client_secret: 'x' }) }],
  ];
  const requests: BadRequest[] = cases.map(([name, c]) => ({ name, method: 'POST', url: '/v1/oauth/token', ...c }));
  // Generated: random JSON values, random keys, random bytes.
  const values = () => {
    const pick = Math.floor(random() * 8);
    return [1, true, null, [], {}, 'x'.repeat(Math.floor(random() * 100)), -0.5, '\u0000'][pick];
  };
  const keys = ['grant_type', 'code', 'redirect_uri', 'refresh_token', 'code_verifier', 'client_id', 'client_secret', 'scope', ''];
  for (let i = 0; i < 110; i++) {
    const body: Record<string, unknown> = {};
    const n = 1 + Math.floor(random() * 4);
    for (let k = 0; k < n; k++) body[keys[Math.floor(random() * keys.length)]!] = random() < 0.5 ? values() : ['authorization_code', 'refresh_token', 'nope'][Math.floor(random() * 3)];
    requests.push({ name: `generated JSON #${i}`, method: 'POST', url: '/v1/oauth/token', ...json(JSON.stringify(body)) });
  }
  for (let i = 0; i < 30; i++) {
    const bytes = Buffer.alloc(1 + Math.floor(random() * 200));
    for (let b = 0; b < bytes.length; b++) bytes[b] = Math.floor(random() * 256);
    const type = ['application/json', 'application/x-www-form-urlencoded'][i % 2]!;
    requests.push({ name: `random bytes #${i} (${type})`, method: 'POST', url: '/v1/oauth/token', headers: { ...auth, 'content-type': type }, payload: bytes });
  }
  for (let i = 0; i < 20; i++) {
    requests.push({ name: `revoke bad body #${i}`, method: 'POST', url: '/v1/oauth/revoke', ...json(i % 2 === 0 ? '{"token":1}' : `{"token":"${'a.'.repeat(i)}"`) });
  }
  return requests;
}

function connectQueries(client: TestClient, random: () => number): BadRequest[] {
  const requests: BadRequest[] = [];
  const valid = { client_id: client.clientId, redirect_uri: client.redirectUri, response_type: 'code', scope: 'accounts' } as Record<string, string>;
  const mutations: Array<(q: Record<string, string>) => void> = [
    (q) => delete q.client_id,
    (q) => delete q.redirect_uri,
    (q) => delete q.response_type,
    (q) => (q.client_id = 'x'.repeat(5000)),
    (q) => (q.redirect_uri = 'javascript:alert(1)'),
    (q) => (q.redirect_uri = `${client.redirectUri}#frag`),
    (q) => (q.response_type = 'code token'),
    (q) => (q.scope = 'openid'),
    (q) => (q.scope = ' '.repeat(10)),
    (q) => (q.state = 's'.repeat(5000)),
    (q) => (q.culture = '\u0000'),
    (q) => (q.providerId = 'x'.repeat(2000)),
    (q) => (q.code_challenge_method = 'S256'),
    (q) => (q.select_all_accounts = 'maybe'),
    (q) => (q.bank_account_numbers = ',,,'),
    (q) => (q.email = '@'),
    (q) => (q.state = '\u0001\u0002'),
  ];
  for (let i = 0; i < 60; i++) {
    const q = { ...valid };
    const count = 1 + Math.floor(random() * 3);
    for (let m = 0; m < count; m++) mutations[Math.floor(random() * mutations.length)]!(q);
    requests.push({ name: `connect mutation #${i}`, method: 'GET', url: `/v1/oauth/connect?${new URLSearchParams(q)}`, headers: {} });
  }
  for (const raw of ['%', '%zz', 'client_id=%ff%fe', '&&&', '=', 'client_id[]=a', 'client_id=a&client_id=b', 'redirect_uri=%00']) {
    requests.push({ name: `connect raw ${raw}`, method: 'GET', url: `/v1/oauth/connect?${raw}`, headers: {} });
  }
  return requests;
}

for (const dialect of DIALECTS) {
  describe(`bad requests never get a 500 (RFC 6749 §5.2 bodies) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    let code: string;
    before(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
      code = (await issueCode(server, client)).code;
    });
    after(async () => {
      await server.close();
    });

    it('token and revoke endpoints: at least 200 malformed requests, each a 4xx with an RFC 6749 error body', async () => {
      const requests = tokenBodies(client, code, mulberry32(7));
      assert.ok(requests.length >= 200, `only ${requests.length} token requests`);
      for (const request of requests) {
        const res = await server.app.inject(request);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${request.name}: ${res.statusCode} ${res.body}`);
        const body = res.json();
        assert.ok(OAUTH_ERRORS.has(body.error), `${request.name}: error ${body.error}`);
        assert.equal(typeof body.error_description, 'string', request.name);
        assert.doesNotMatch(res.body, /at .*\.ts:\d+/, `${request.name}: leaks a stack`);
      }
    });

    it('connect endpoint: malformed queries are a page or a redirect with an error, never a 500', async () => {
      const requests = connectQueries(client, mulberry32(11));
      for (const request of requests) {
        const res = await server.app.inject(request);
        assert.ok([301, 302, 400].includes(res.statusCode), `${request.name}: ${res.statusCode}`);
        if (res.statusCode === 302) assert.ok(new URL(String(res.headers.location)).searchParams.get('error'), request.name);
        if (res.statusCode === 400) assert.match(String(res.headers['content-type']), /text\/html/, request.name);
      }
    });
  });
}

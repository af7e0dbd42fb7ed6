import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../helpers/database.js';
import { sandboxFixture, type SandboxFixture } from './sandbox-fixture.js';

const dialect = DIALECTS[0] ?? 'sqlite';

describe('provider endpoints (aiia-api.md §4)', () => {
  let fixture: SandboxFixture;
  before(async () => {
    fixture = await sandboxFixture(dialect);
  });
  after(async () => {
    await fixture.close();
  });

  test('GET /v1/providers: a JSON array, as Aiia’s sample app reads it', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/v1/providers' });
    assert.equal(response.statusCode, 200);
    const providers = response.json();
    assert.ok(Array.isArray(providers));
    assert.equal(providers.length, 11);
    assert.deepEqual(providers[0], {
      id: 'TestDataBank1',
      name: 'Test Data Bank 1',
      countryCode: 'DK',
      currency: 'DKK',
      logoUrl: 'http://ferry.test/assets/banks/testdatabank1.svg',
      status: 'Up',
      loginMethods: ['Password'],
      requiresSupervisedUpdate: false,
    });
    const countries = Object.fromEntries(providers.slice(0, 7).map((p: { id: string; countryCode: string; currency: string }) => [p.id, `${p.countryCode}/${p.currency}`]));
    assert.deepEqual(Object.values(countries), ['DK/DKK', 'DK/DKK', 'DK/DKK', 'DK/DKK', 'FI/EUR', 'NO/NOK', 'DK/DKK']);
  });

  test('GET /v2/providers: { providers }, filterable by country', async () => {
    const all = (await fixture.app.inject({ method: 'GET', url: '/v2/providers' })).json();
    assert.equal(all.providers.length, 11);
    const finnish = (await fixture.app.inject({ method: 'GET', url: '/v2/providers?countryCode=fi' })).json();
    assert.deepEqual(
      finnish.providers.map((p: { id: string }) => p.id),
      ['TestDataBank5'],
    );
    assert.equal((await fixture.app.inject({ method: 'GET', url: '/v2/providers?countryCode=Denmark' })).statusCode, 400);
  });

  test('GET /v2/providers/{providerId}: one provider, 404 for an unknown one', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/v2/providers/SandboxAppBank' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json().loginMethods, ['Decoupled']);
    assert.equal(response.json().logoUrl, 'http://ferry.test/assets/banks/sandboxappbank.svg');
    const unknown = await fixture.app.inject({ method: 'GET', url: '/v2/providers/NoSuchBank' });
    assert.equal(unknown.statusCode, 404);
  });

  test('logos are Ferry’s own SVGs, cacheable, and may not run anything', async () => {
    for (const provider of fixture.registry.list()) {
      const url = provider.describe().logoUrl;
      const response = await fixture.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['content-type'], 'image/svg+xml');
      assert.equal(response.headers['content-security-policy'], "default-src 'none'");
      assert.match(response.body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.doesNotMatch(response.body, /<script|href=|url\(/i);
      const cached = await fixture.app.inject({ method: 'GET', url, headers: { 'if-none-match': String(response.headers.etag) } });
      assert.equal(cached.statusCode, 304);
    }
    assert.equal((await fixture.app.inject({ method: 'GET', url: '/assets/banks/nosuchbank.svg' })).statusCode, 404);
  });
});

describe('with the sandbox off (FERRY_SANDBOX=false)', () => {
  let fixture: SandboxFixture;
  before(async () => {
    fixture = await sandboxFixture(dialect, { sandbox: false });
  });
  after(async () => {
    await fixture.close();
  });

  test('no sandbox bank is registered, listed, or served', async () => {
    assert.deepEqual(fixture.registry.list(), []);
    assert.equal(fixture.registry.get('TestDataBank1'), undefined);
    assert.deepEqual((await fixture.app.inject({ method: 'GET', url: '/v1/providers' })).json(), []);
    assert.deepEqual((await fixture.app.inject({ method: 'GET', url: '/v2/providers' })).json(), { providers: [] });
    for (const url of ['/v2/providers/TestDataBank1', '/assets/banks/testdatabank1.svg', '/sandbox/assets/bank.css', '/sandbox/banks/SandboxRedirectBank/login?request=x']) {
      assert.equal((await fixture.app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
  });
});

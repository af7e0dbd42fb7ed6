import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainRefusedRedirect, tryRedirect } from '../../src/portal/redirect-messages.js';

describe('refused redirect URLs, told to a developer', () => {
  it('names where a wildcard stands and why it is refused there (Aiia: no wildcard in domain and subdomain)', () => {
    const cases: [string, string][] = [
      ['https://*.budget.example.com/cb', 'subdomain'],
      ['https://*.example.com/cb', 'subdomain'],
      ['https://budget*.com/cb', 'domain name'],
      ['https://*/cb', 'domain name'],
      ['https://budget.example.com:*/cb', 'port'],
      ['http*://budget.example.com/cb', 'scheme'],
      ['https://budget.example.com/cb?tenant=*', 'query'],
      ['https://budget.example.com/cb#*', 'fragment'],
    ];
    for (const [uri, place] of cases) {
      const refused = explainRefusedRedirect(uri);
      assert.equal(refused?.headline, `A wildcard (*) is not allowed in the ${place}.`, uri);
      assert.match(refused!.detail, /Put the \* in the path instead/);
    }
    assert.equal(explainRefusedRedirect('https://budget.example.com/callback/*'), null, 'a wildcard in the path is fine');
  });

  it('gives every other refusal of the validator a specific headline and its own sentence on what to change', () => {
    const cases: [string, RegExp, RegExp][] = [
      ['https://Budget.example.com/cb', /canonical/, /lowercase \("budget\.example\.com"\)/],
      ['HTTPS://budget.example.com/cb', /canonical/, /scheme in lowercase/],
      ['https://budget.example.com:443/cb', /canonical/, /default port ":443"/],
      ['https://budget.example.com./cb', /canonical/, /trailing dot/],
      ['https://budget.example.com/a/../cb', /canonical/, /"\." and "\.\." segments/],
      ['https://budget.example.com/%7Ecb', /canonical/, /Write "~" instead of "%7E"/],
      ['https://budget.example.com/cb#top', /fragment/, /RFC 6749 §3\.1\.2/],
      ['http://budget.example.com/cb', /Plain http/, /localhost/],
      ['https://user:pw@budget.example.com/cb', /user name or password/, /RFC 3986 §3\.2\.1/],
      ['javascript:alert(1)', /cannot receive a redirect/, /not allowed/],
      ['/callback', /whole address/, /absolute URI/],
      ['https://budget.example.com/cb?code=1', /reserved/, /"code"/],
      ['https://budget.example.com/cb/**', /One \* is enough/, /single "\*"/],
      [' https://budget.example.com/cb', /canonical/, /whitespace/],
      ['https://budget.example.com:99999/cb', /The port is not valid/, /1 to 65535/],
      ['https://bud_get.example.com/cb', /host or port/, /letters, digits, hyphens/],
    ];
    for (const [uri, headline, detail] of cases) {
      const refused = explainRefusedRedirect(uri);
      assert.ok(refused, uri);
      assert.match(refused.headline, headline, uri);
      assert.match(refused.detail, detail, uri);
      assert.match(refused.detail, /^[A-Z"]/, 'a sentence');
    }
  });

  it('tries a URL against the registrations: which one matched, or why none did', () => {
    const registered = ['https://budget.example.com/callback', 'https://budget.example.com/tenants/*'];
    assert.deepEqual(tryRedirect(registered, 'https://budget.example.com/callback'), { kind: 'match', registration: 'https://budget.example.com/callback', exact: true });
    assert.deepEqual(tryRedirect(registered, 'https://budget.example.com/tenants/7/cb'), { kind: 'match', registration: 'https://budget.example.com/tenants/*', exact: false });
    assert.match((tryRedirect(registered, 'https://budget.example.com/other') as { reason: string }).reason, /differ in the path or query/);
    assert.match((tryRedirect(registered, 'https://evil.example.com/callback') as { reason: string }).reason, /No registration has this scheme, host and port/);
    assert.match((tryRedirect(registered, 'https://budget.example.com/tenants/../admin') as { reason: string }).reason, /refuse it before matching/);
    assert.match((tryRedirect(registered, 'https://budget.example.com/tenants/*') as { reason: string }).reason, /cannot contain \*/);
  });
});

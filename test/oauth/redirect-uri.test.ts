import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackUri, matchRedirectUri, validateRedirectUriRegistration } from '../../src/oauth/redirect-uri.js';

const CATCH_ALL = 'https://mydomain.com/aiia-callback/*';
const MIDDLE = 'https://x.com/a/*/cb';
const EXACT = 'https://app.example.com/cb';
const EXACT_WITH_QUERY = 'https://app.example.com/cb?tenant=42';
const WILDCARD_WITH_QUERY = 'https://tenants.example.com/t/*?app=ferry';
const LOCALHOST = 'http://localhost:3000/callback';
const LOOPBACK_V4 = 'http://127.0.0.1:8080/cb';
const LOOPBACK_V6 = 'http://[::1]:8080/cb';
const NATIVE = 'com.example.app:/oauth/callback';

const REGISTERED = [CATCH_ALL, MIDDLE, EXACT, EXACT_WITH_QUERY, WILDCARD_WITH_QUERY, LOCALHOST, LOOPBACK_V4, LOOPBACK_V6, NATIVE];

describe('Redirect URIs (Aiia §6, RFC 6749 §3.1.2, RFC 9700 §4.1)', () => {
  describe('registration', () => {
    const accepted = [
      CATCH_ALL,
      MIDDLE,
      EXACT,
      EXACT_WITH_QUERY,
      WILDCARD_WITH_QUERY,
      LOCALHOST,
      LOOPBACK_V4,
      LOOPBACK_V6,
      NATIVE,
      'https://app.example.com/',
      'https://app.example.com:8443/cb',
      'https://xn--bcher-kva.example/cb',
      'https://app.example.com/a%20b',
      'http://127.0.0.1/cb',
      'https://x.com/t-*/cb',
    ];
    for (const uri of accepted) {
      it(`accepts ${uri}`, () => {
        assert.deepEqual(validateRedirectUriRegistration(uri), { ok: true, uri });
      });
    }

    const refused: [string, RegExp][] = [
      ['https://*.mydomain.com/cb', /wildcard.*domain/i],
      ['https://mydomain.*/cb', /wildcard.*domain/i],
      ['https://*/cb', /wildcard.*domain/i],
      ['*://mydomain.com/cb', /wildcard/i],
      ['https://mydomain.com:*/cb', /wildcard.*port/i],
      ['https://mydomain.com/cb?tenant=*', /wildcard.*query/i],
      ['https://mydomain.com/cb#*', /wildcard.*fragment/i],
      ['https://mydomain.com/a/**', /single "\*"/],
      ['http://mydomain.com/cb', /use https/i],
      ['HTTPS://mydomain.com/cb', /scheme in lowercase/i],
      ['https://MyDomain.com/cb', /host in lowercase/i],
      ['https://mydomain.com:443/cb', /default port ":443"/],
      ['http://localhost:80/cb', /default port ":80"/],
      ['https://mydomain.com:/cb', /empty port/i],
      ['https://mydomain.com:08443/cb', /leading zeros/i],
      ['https://mydomain.com:70000/cb', /1 to 65535/],
      ['https://user:pw@mydomain.com/cb', /user information/i],
      ['https://mydomain.com/cb#x', /fragment/i],
      ['https://mydomain.com./cb', /trailing dot/i],
      ['https:///cb', /add a host/i],
      ['https:/mydomain.com/cb', /https:\/\//],
      ['https://mydomain.com', /path/i],
      ['https://mydomain.com?x=1', /path/i],
      ['/aiia-callback', /absolute/i],
      ['https://mydomain.com/a/../cb', /"\." and "\.\." segments/],
      ['https://mydomain.com/./cb', /"\." and "\.\." segments/],
      ['https://mydomain.com/a/%2e%2e/cb', /percent-encode dots/i],
      ['https://mydomain.com/a%2Fb', /percent-encode dots, slashes/i],
      ['https://mydomain.com/a%5Cb', /backslashes/i],
      ['https://mydomain.com/a;b=c', /path parameters/i],
      ['https://mydomain.com/a\\b', /backslash/i],
      ['https://mydomain.com/a b', /whitespace/i],
      [' https://mydomain.com/cb', /whitespace/i],
      ['https://mydomain.com/cb\u0000', /control/i],
      ['https://mÿdomain.com/cb', /ASCII/],
      ['https://mydomain.com/caf\u00e9', /ASCII/],
      ['https://mydomain.com/<cb>', /percent-encode/i],
      ['https://mydomain.com//cb', /empty path segment/i],
      ['https://mydomain.com/%c3%a9', /uppercase hex/i],
      ['https://mydomain.com/%7E', /"~" instead of "%7E"/],
      ['https://mydomain.com/%00', /control/i],
      ['https://mydomain.com/%zz', /two hex digits/i],
      ['https://mydomain.com/cb?', /"\?" at the end/],
      ['https://mydomain.com/cb?code=x', /"code"/],
      ['https://mydomain.com/cb?a=1&state=x', /"state"/],
      ['https://mydomain.com/' + 'a'.repeat(2000), /2000/],
      ['https://127.000.0.1/cb', /IP address/i],
      ['http://127.1/cb', /IP address/i],
      ['https://[::0001]/cb', /IPv6/],
      ['https://my_domain.com/cb', /letters, digits, hyphens/i],
      ['https://-mydomain.com/cb', /domain name/i],
      ['ftp://mydomain.com/cb', /scheme "ftp"/],
      ['javascript:alert(1)', /scheme "javascript"/],
      ['com.example.app://cb', /single slash/i],
      ['com.example.app:cb', /path/i],
      ['', /empty/i],
    ];
    for (const [uri, reason] of refused) {
      it(`refuses ${JSON.stringify(uri.length > 80 ? `${uri.slice(0, 60)}…` : uri)}`, () => {
        const result = validateRedirectUriRegistration(uri);
        assert.equal(result.ok, false);
        assert.ok(!result.ok);
        assert.match(result.reason, reason);
      });
    }

    it('explains that wildcards are not allowed in subdomains', () => {
      const result = validateRedirectUriRegistration('https://*.mydomain.com/aiia-callback');
      assert.ok(!result.ok);
      assert.match(result.reason, /not allowed in the domain or subdomain/);
      assert.match(result.reason, /only in the path/);
    });
  });

  describe('matching', () => {
    const legitimate: [string, string][] = [
      ['https://mydomain.com/aiia-callback/x', CATCH_ALL],
      ['https://mydomain.com/aiia-callback/tenant/42', CATCH_ALL],
      ['https://mydomain.com/aiia-callback/a-b_c.d~E9', CATCH_ALL],
      ['https://mydomain.com/aiia-callback/tenant/', CATCH_ALL],
      ['https://mydomain.com/aiia-callback/tenant?id=42', CATCH_ALL],
      ['https://mydomain.com/aiia-callback/t?next=%2Fhome', CATCH_ALL],
      ['https://x.com/a/t1/cb', MIDDLE],
      ['https://x.com/a/t1/t2/cb', MIDDLE],
      [EXACT, EXACT],
      [EXACT_WITH_QUERY, EXACT_WITH_QUERY],
      ['https://tenants.example.com/t/7?app=ferry', WILDCARD_WITH_QUERY],
      [LOCALHOST, LOCALHOST],
      [LOOPBACK_V4, LOOPBACK_V4],
      [LOOPBACK_V6, LOOPBACK_V6],
      [NATIVE, NATIVE],
    ];
    for (const [requested, expected] of legitimate) {
      it(`matches ${requested} to ${expected}`, () => {
        assert.equal(matchRedirectUri(REGISTERED, requested), expected);
      });
    }

    const hostile = [
      // Dot segments, encoded or not: the classic way out of a prefix.
      'https://mydomain.com/aiia-callback/../admin',
      'https://mydomain.com/aiia-callback/./x',
      'https://mydomain.com/aiia-callback/..',
      'https://mydomain.com/aiia-callback/x/..',
      'https://mydomain.com/aiia-callback/x/../../admin',
      'https://mydomain.com/aiia-callback/%2e%2e/admin',
      'https://mydomain.com/aiia-callback/%2E%2E/admin',
      'https://mydomain.com/aiia-callback/.%2e/admin',
      'https://mydomain.com/aiia-callback/x/%2E',
      'https://mydomain.com/aiia-callback/%2fadmin',
      'https://mydomain.com/aiia-callback/x%2F..%2F..%2Fadmin',
      'https://mydomain.com/aiia-callback/%5c..%5cadmin',
      'https://mydomain.com/aiia-callback/%61dmin',
      // Backslashes and path parameters.
      'https://mydomain.com/aiia-callback/..\\admin',
      'https://mydomain.com/aiia-callback\\..\\admin',
      'https://mydomain.com/aiia-callback/x;jsessionid=1',
      'https://mydomain.com/aiia-callback/x/..;/admin',
      // Userinfo and fragments that move the real host.
      'https://attacker.com@mydomain.com/aiia-callback/x',
      'https://mydomain.com@attacker.com/aiia-callback/x',
      'https://mydomain.com\\@attacker.com/aiia-callback/x',
      'https://mydomain.com%2F@attacker.com/aiia-callback/x',
      'https://mydomain.com/aiia-callback/x@attacker.com',
      'https://mydomain.com/aiia-callback/x#@attacker.com',
      'https://mydomain.com/aiia-callback/x#',
      // Control characters, whitespace, non-ASCII.
      'https://mydomain.com/aiia-callback/x%00',
      'https://mydomain.com/aiia-callback/x?a=%00',
      'https://mydomain.com/aiia-callback/x\t',
      'https://mydomain.com/aiia-callback/x\n',
      'https://mydomain.com/aiia-callback/x\r\nSet-Cookie:a=b',
      'https://mydomain.com/aiia-callback/x%0D%0ASet-Cookie:a=b',
      'https://mydomain.com/aiia-callback/a b',
      ' https://mydomain.com/aiia-callback/x',
      'https://mydomain.com/aiia-callback/x ',
      'https://mydomain.com/aiia-callback/x\u00a0',
      'https://mydomain.com/aiia-callback/x\u200b',
      'https://mydomain.com/aiia-callback/caf\u00e9',
      'https://mydoma\u0456n.com/aiia-callback/x',
      'https://\uff4dydomain.com/aiia-callback/x',
      'https://xn--mydoman-4ve.com/aiia-callback/x',
      // Host and scheme spellings.
      'https://mydomain.com./aiia-callback/x',
      'HTTPS://mydomain.com/aiia-callback/x',
      'https://MyDomain.com/aiia-callback/x',
      'https://mydomain.com/AIIA-CALLBACK/x',
      'http://mydomain.com/aiia-callback/x',
      'https://mydomain.com.attacker.com/aiia-callback/x',
      'https://evil.mydomain.com/aiia-callback/x',
      'https://mydomain.com:443/aiia-callback/x',
      'https://mydomain.com:8443/aiia-callback/x',
      'https://mydomain.com:/aiia-callback/x',
      // Authority confusion and relative forms.
      'https://mydomain.com/aiia-callback//attacker.com',
      'https://mydomain.com//aiia-callback/x',
      '//mydomain.com/aiia-callback/x',
      '/aiia-callback/x',
      'https:mydomain.com/aiia-callback/x',
      'https:/mydomain.com/aiia-callback/x',
      'https:///mydomain.com/aiia-callback/x',
      'javascript:alert(1)//https://mydomain.com/aiia-callback/x',
      // The wildcard must match something, and only what it may match.
      'https://mydomain.com/aiia-callback/',
      'https://mydomain.com/aiia-callback',
      'https://mydomain.com/aiia-callbackx/y',
      'https://mydomain.com/aiia-callback/*',
      'https://mydomain.com/aiia-callback/<script>',
      'https://mydomain.com/aiia-callback/x?',
      'https://mydomain.com/aiia-callback/x?code=forged',
      'https://mydomain.com/aiia-callback/x?state=forged',
      'https://mydomain.com/aiia-callback/' + 'a'.repeat(2000),
      'https://x.com/a/cb',
      'https://x.com/a//cb',
      'https://x.com/a/t1/cb/extra',
      'https://tenants.example.com/t/7',
      'https://tenants.example.com/t/7?app=other',
      'https://tenants.example.com/t/7?app=ferry&x=1',
      // Exact registrations.
      'https://app.example.com/cb/',
      'https://app.example.com/cb?x=1',
      'https://app.example.com/cb?tenant=43',
      'https://app.example.com/CB',
      'https://app.example.com/cb/../cb',
      'https://app.example.com/./cb',
      'https://app.example.com/cb#frag',
      'https://app.example.com/c%62',
      'https://app.example.com/cb%00',
      'http://app.example.com/cb',
      'https://app.example.com:443/cb',
      'https://user:pass@app.example.com/cb',
      'https://app.example.com/cb\u0000',
      // Loopback.
      'http://localhost:3001/callback',
      'http://localhost/callback',
      'https://localhost:3000/callback',
      'http://127.0.0.1:3000/callback',
      'http://LOCALHOST:3000/callback',
      'http://localhost.:3000/callback',
      'http://localhost:03000/callback',
      'http://localhost:3000/callback/',
      'http://localhost:3000/callback?',
      'http://localhost:3000/callback#',
      'http://localhost:3000@attacker.com/callback',
      'http://attacker.com#@localhost:3000/callback',
      'http://127.0.0.1:8080/cb/../cb',
      'http://127.000.0.1:8080/cb',
      'http://[0:0:0:0:0:0:0:1]:8080/cb',
      // Native.
      'com.example.app://oauth/callback',
      'COM.EXAMPLE.APP:/oauth/callback',
      'com.example.evil:/oauth/callback',
    ];
    for (const requested of hostile) {
      it(`refuses ${JSON.stringify(requested.length > 80 ? `${requested.slice(0, 60)}…` : requested)}`, () => {
        assert.equal(matchRedirectUri(REGISTERED, requested), null);
      });
    }

    it('prefers an exact registration over a wildcard one', () => {
      const exact = 'https://mydomain.com/aiia-callback/exact';
      assert.equal(matchRedirectUri([CATCH_ALL, exact], exact), exact);
      assert.equal(matchRedirectUri([CATCH_ALL, exact], 'https://mydomain.com/aiia-callback/other'), CATCH_ALL);
    });

    it('ignores stored registrations that are not valid', () => {
      assert.equal(matchRedirectUri(['https://*.mydomain.com/cb'], 'https://a.mydomain.com/cb'), null);
      assert.equal(matchRedirectUri(['http://mydomain.com/cb'], 'http://mydomain.com/cb'), null);
      assert.equal(matchRedirectUri(['https://mydomain.com/a/../cb'], 'https://mydomain.com/a/../cb'), null);
    });

    it('matches nothing against an empty list', () => {
      assert.equal(matchRedirectUri([], EXACT), null);
    });

    it('stays fast on patterns with many wildcards (no regex backtracking)', { timeout: 5000 }, () => {
      const pattern = 'https://x.com/*a*a*a*a*a*a*b';
      assert.ok(validateRedirectUriRegistration(pattern).ok);
      const started = performance.now();
      assert.equal(matchRedirectUri([pattern], `https://x.com/${'a'.repeat(1950)}`), null);
      assert.equal(matchRedirectUri([pattern], `https://x.com/${'a'.repeat(1950)}b`), pattern);
      assert.ok(performance.now() - started < 1000);
    });
  });

  describe('isLoopbackUri', () => {
    const cases: [string, boolean][] = [
      ['http://localhost:3000/callback', true],
      ['http://localhost/cb', true],
      ['https://localhost/cb', true],
      ['http://127.0.0.1:8080/cb', true],
      ['http://127.255.3.4/cb', true],
      ['http://[::1]:8080/cb', true],
      ['https://mydomain.com/cb', false],
      ['http://128.0.0.1/cb', false],
      ['http://localhost.evil.com/cb', false],
      ['http://localhost.:3000/cb', false],
      ['http://LOCALHOST/cb', false],
      ['http://127.1/cb', false],
      ['http://user@localhost/cb', false],
      ['com.example.app:/cb', false],
      ['ftp://localhost/cb', false],
      [' http://localhost/cb', false],
    ];
    for (const [uri, expected] of cases) {
      it(`${JSON.stringify(uri)} → ${expected}`, () => {
        assert.equal(isLoopbackUri(uri), expected);
      });
    }
  });
});

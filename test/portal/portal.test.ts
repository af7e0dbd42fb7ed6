import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createApp } from '../../src/apps/apps.js';
import { invite } from '../../src/portal/invitations.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestServer, issueCode, PUBLIC_URL, type TestServer } from '../helpers/server.js';
import { startReceiver } from '../webhooks/receiver.js';
import { basic, PortalBrowser, text } from './portal-client.js';

const HOUR = 3600_000;

for (const dialect of DIALECTS) {
  describe(`developer portal [${dialect}]`, () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await createTestServer(dialect, { FERRY_PORTAL_OPERATORS: 'ops@ferry.example' });
    });
    afterEach(async () => {
      await server.close();
    });

    const tokenCall = async (clientId: string, secret: string, redirectUri: string) => {
      const { code } = await issueCode(server, { clientId, clientSecret: secret, redirectUri, basic: basic(clientId, secret) });
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: basic(clientId, secret), 'content-type': 'application/json' },
        payload: { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
      });
      return response.statusCode;
    };

    it('signs a developer up with an emailed code and keeps them signed in', async () => {
      const anna = new PortalBrowser(server);
      const before = await anna.get('/portal/apps');
      assert.equal(before.statusCode, 303);
      assert.equal(before.headers.location, '/portal/sign-in?next=%2Fportal%2Fapps');
      await anna.signIn('Anna@Example.com');
      const apps = await anna.get('/portal/apps');
      assert.equal(apps.statusCode, 200);
      assert.match(text(apps.body), /Signed in as anna@example\.com/);
      assert.match(text(apps.body), /You have no apps yet/);
      assert.equal(apps.headers['cache-control'], 'no-store');
      assert.match(String(apps.headers['content-security-policy']), /script-src 'self'/);

      const wrong = await anna.post('/portal/sign-out', {});
      assert.equal(wrong.statusCode, 303);
      assert.equal((await anna.get('/portal/apps')).statusCode, 303, 'signed out');
    });

    it('refuses a wrong code with the tries left, and an address that is not one', async () => {
      const anna = new PortalBrowser(server);
      await anna.get('/portal/sign-in');
      const bad = await anna.post('/portal/sign-in', { email: 'not-an-address' });
      assert.equal(bad.statusCode, 400);
      assert.match(text(bad.body), /Enter an email address like name@example\.com/);
      assert.equal((await anna.post('/portal/sign-in', { email: 'anna@example.com' })).statusCode, 303);
      await anna.get('/portal/sign-in/code');
      const wrong = await anna.post('/portal/sign-in/code', { code: 'abcdef' });
      assert.equal(wrong.statusCode, 400);
      assert.match(text(wrong.body), /That code is not right.*4 tries left/);
    });

    it('registers an app, shows its secret once, and the secret works at the token endpoint', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const form = await anna.get('/portal/apps/new');
      assert.match(form.body, new RegExp(`value="${PUBLIC_URL}/portal/callback"`), 'the test callback is suggested');
      const { clientId, clientSecret } = await anna.createApp('Budget Buddy', 'https://budget.example.com/callback');
      assert.match(clientId, /^budget-buddy-/);
      const again = await anna.get(`/portal/apps/${clientId}`);
      assert.doesNotMatch(again.body, /id="client-secret"/, 'shown only once');
      assert.doesNotMatch(again.body, new RegExp(clientSecret));
      assert.equal(await tokenCall(clientId, clientSecret, 'https://budget.example.com/callback'), 200);
    });

    it('refuses a post without this browser’s CSRF token, and changes nothing', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const missing = await anna.post('/portal/apps', { name: 'Forged', redirectUri: 'https://evil.example.com/cb' }, { csrf: null });
      assert.equal(missing.statusCode, 403);
      assert.match(text(missing.body), /This form has expired/);
      const other = new PortalBrowser(server);
      await other.get('/portal/sign-in');
      const foreign = await anna.post('/portal/apps', { name: 'Forged', redirectUri: 'https://evil.example.com/cb' }, { csrf: other.csrf });
      assert.equal(foreign.statusCode, 403);
      const signOut = await anna.post('/portal/sign-out', {}, { csrf: 'x' });
      assert.equal(signOut.statusCode, 403);
      assert.equal((await server.services.database.db.selectFrom('apps').select('id').execute()).length, 0);
      assert.equal((await anna.get('/portal/apps')).statusCode, 200, 'still signed in');
    });

    it('shows a developer only their own apps: another’s is not found, on every page and form', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const { clientId } = await anna.createApp('Anna’s app', 'https://anna.example.com/cb');
      const { consentId } = await issueCode(server, { clientId, clientSecret: '', redirectUri: 'https://anna.example.com/cb', basic: '' });
      const bob = new PortalBrowser(server);
      await bob.signIn('bob@example.com');
      assert.doesNotMatch((await bob.get('/portal/apps')).body, new RegExp(clientId));
      for (const page of ['', '/settings', '/redirects', '/webhooks', '/consents', '/quickstart']) {
        const response = await bob.get(`/portal/apps/${clientId}${page}`);
        assert.equal(response.statusCode, 404, page);
        assert.doesNotMatch(response.body, /Anna/);
      }
      const posts: [string, Record<string, string>][] = [
        ['/rotate-secret', { grace: '0' }],
        ['/settings', { name: 'Bob was here', logoUrl: '', brandColor: '' }],
        ['/redirects', { uri: 'https://bob.example.com/cb' }],
        ['/redirects/remove', { uri: 'https://anna.example.com/cb' }],
        ['/redirects/try', { uri: 'https://anna.example.com/cb' }],
        ['/webhooks', { url: 'https://bob.example.com/hook', secret: 'new' }],
        ['/webhooks/test', {}],
        [`/consents/${consentId}/revoke`, {}],
      ];
      for (const [path, form] of posts) assert.equal((await bob.post(`/portal/apps/${clientId}${path}`, form)).statusCode, 404, path);
      const app = await server.services.database.db.selectFrom('apps').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal(app.name, 'Anna’s app');
      assert.equal(app.webhook_url, null);
      assert.ok(await server.services.database.db.selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst(), 'the consent is untouched');
      // Bob cannot redeliver Anna's deliveries through his own app either.
      const { clientId: bobsApp } = await bob.createApp('Bob’s app', 'https://bob.example.com/cb');
      await anna.post(`/portal/apps/${clientId}/webhooks`, { url: 'https://anna.example.com/hook', secret: 'none' });
      await anna.post(`/portal/apps/${clientId}/webhooks/test`, {});
      const delivery = await server.services.database.db.selectFrom('webhook_deliveries').select('id').where('app_id', '=', clientId).executeTakeFirstOrThrow();
      assert.equal((await bob.post(`/portal/apps/${bobsApp}/webhooks/deliveries/${delivery.id}/redeliver`, {})).statusCode, 404);
    });

    it('lets an operator see and manage every app, the CLI’s too', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const { clientId } = await anna.createApp('Anna’s app', 'https://anna.example.com/cb');
      const { app: cli } = await createApp(server.services.database.db, server.clock, { name: 'From the CLI', redirectUris: ['https://cli.example.com/cb'] });
      assert.doesNotMatch((await anna.get('/portal/apps')).body, /From the CLI/, 'a CLI app has no owner');
      assert.equal((await anna.get(`/portal/apps/${cli.id}`)).statusCode, 404);
      const ops = new PortalBrowser(server);
      await ops.signIn('ops@ferry.example');
      const list = text((await ops.get('/portal/apps')).body);
      assert.match(list, /operator/);
      assert.match(list, /Anna’s app/);
      assert.match(list, /From the CLI.*no owner \(CLI\)/);
      const renamed = await ops.post(`/portal/apps/${cli.id}/settings`, { name: 'Renamed by ops', logoUrl: '', brandColor: '#0F766E' });
      assert.equal(renamed.statusCode, 303);
      assert.equal((await ops.get(`/portal/apps/${clientId}/consents`)).statusCode, 200);
    });

    it('rotates the secret with the chosen grace: the old one works at the token endpoint until then, and not a moment after', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const redirect = 'https://budget.example.com/callback';
      const { clientId, clientSecret: first } = await anna.createApp('Budget Buddy', redirect);
      await anna.get(`/portal/apps/${clientId}`);
      const rotated = await anna.post(`/portal/apps/${clientId}/rotate-secret`, { grace: '3600' });
      assert.equal(rotated.statusCode, 303);
      const overview = await anna.get(`/portal/apps/${clientId}`);
      const second = /id="client-secret">([^<]+)</.exec(overview.body)?.[1];
      assert.ok(second && second !== first);
      assert.match(text(overview.body), /The previous secret keeps working until 2026-01-15 13:00 UTC, then stops/);
      assert.equal(await tokenCall(clientId, second, redirect), 200, 'the new secret works at once');
      assert.equal(await tokenCall(clientId, first, redirect), 200, 'the old one during the grace period');
      server.clock.advance(HOUR - 1);
      assert.equal(await tokenCall(clientId, first, redirect), 200, 'a millisecond before the end');
      server.clock.advance(1);
      assert.equal(await tokenCall(clientId, first, redirect), 401, 'at the chosen time it stops');
      assert.equal(await tokenCall(clientId, second, redirect), 200);

      // No grace: the current secret stops at once.
      const none = await anna.post(`/portal/apps/${clientId}/rotate-secret`, { grace: '0' });
      assert.equal(none.statusCode, 303);
      const third = /id="client-secret">([^<]+)</.exec((await anna.get(`/portal/apps/${clientId}`)).body)?.[1];
      assert.ok(third);
      assert.equal(await tokenCall(clientId, second, redirect), 401);
      assert.equal(await tokenCall(clientId, third, redirect), 200);
      // A grace the form does not offer is not taken.
      await anna.post(`/portal/apps/${clientId}/rotate-secret`, { grace: '99999999' });
      assert.equal(await tokenCall(clientId, third, redirect), 200);
    });

    it('adds a wildcard redirect URL, refuses a wildcard host with a clear reason, and the try-it box names the match', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const { clientId } = await anna.createApp('Budget Buddy', 'https://budget.example.com/callback');
      await anna.get(`/portal/apps/${clientId}/redirects`);
      assert.equal((await anna.post(`/portal/apps/${clientId}/redirects`, { uri: 'https://budget.example.com/tenants/*' })).statusCode, 303);
      const host = await anna.post(`/portal/apps/${clientId}/redirects`, { uri: 'https://*.budget.example.com/callback' });
      assert.equal(host.statusCode, 400);
      assert.match(text(host.body), /A wildcard \(\*\) is not allowed in the subdomain\. A wildcard there would let addresses you do not control receive your users’ authorization codes/);
      const refusals: [string, RegExp][] = [
        ['https://budget.exa*mple.com/cb', /not allowed in the domain name/],
        ['https://budget.example.com:*/cb', /not allowed in the port/],
        ['http*://budget.example.com/cb', /not allowed in the scheme/],
        ['https://Budget.example.com/cb', /not in its canonical form.*write the host in lowercase \("budget\.example\.com"\)/i],
        ['https://budget.example.com:443/cb', /not in its canonical form.*Remove the default port ":443"/],
        ['https://budget.example.com/cb#top', /cannot have a fragment/],
        ['http://budget.example.com/cb', /Plain http is allowed only for your own machine/],
      ];
      for (const [uri, message] of refusals) {
        const refused = await anna.post(`/portal/apps/${clientId}/redirects`, { uri });
        assert.equal(refused.statusCode, 400, uri);
        assert.match(text(refused.body), message, uri);
      }
      const matched = text((await anna.post(`/portal/apps/${clientId}/redirects/try`, { uri: 'https://budget.example.com/tenants/42/cb' })).body);
      assert.match(matched, /Matches\..*Wildcard registration: https:\/\/budget\.example\.com\/tenants\/\*/);
      const exact = text((await anna.post(`/portal/apps/${clientId}/redirects/try`, { uri: 'https://budget.example.com/callback' })).body);
      assert.match(exact, /Exact registration: https:\/\/budget\.example\.com\/callback/);
      const miss = text((await anna.post(`/portal/apps/${clientId}/redirects/try`, { uri: 'https://other.example.com/callback' })).body);
      assert.match(miss, /Does not match\..*No registration has this scheme, host and port/);
      // The connect endpoint agrees with the try-it box.
      const connect = await server.app.inject({ url: `/v1/oauth/connect?client_id=${clientId}&redirect_uri=${encodeURIComponent('https://budget.example.com/tenants/42/cb')}&response_type=code&scope=accounts` });
      assert.equal(connect.statusCode, 301);

      const removed = await anna.post(`/portal/apps/${clientId}/redirects/remove`, { uri: 'https://budget.example.com/callback' });
      assert.equal(removed.statusCode, 303);
      const last = await anna.post(`/portal/apps/${clientId}/redirects/remove`, { uri: 'https://budget.example.com/tenants/*' });
      assert.equal(last.statusCode, 400);
      assert.match(text(last.body), /An app needs at least one redirect URI/);
    });

    it('sets a webhook with a secret shown once, sends a test event and shows the delivery, and redelivers it', async () => {
      const receiver = await startReceiver();
      try {
        const anna = new PortalBrowser(server);
        await anna.signIn('anna@example.com');
        const { clientId } = await anna.createApp('Budget Buddy', 'https://budget.example.com/callback');
        await anna.get(`/portal/apps/${clientId}/webhooks`);
        assert.equal((await anna.post(`/portal/apps/${clientId}/webhooks`, { url: receiver.url, secret: 'new' })).statusCode, 303);
        const page = await anna.get(`/portal/apps/${clientId}/webhooks?done=saved`);
        const secret = /id="webhook-secret">([^<]+)</.exec(page.body)?.[1];
        assert.ok(secret);
        assert.doesNotMatch((await anna.get(`/portal/apps/${clientId}/webhooks`)).body, /id="webhook-secret"/);
        assert.equal((await anna.post(`/portal/apps/${clientId}/webhooks/test`, {})).statusCode, 303);
        await server.services.webhooks.runDue();
        assert.equal(receiver.received.length, 1);
        assert.equal(receiver.received[0]!.headers['x-aiia-event'], 'WebhookTest');
        const shown = text((await anna.get(`/portal/apps/${clientId}/webhooks`)).body);
        assert.match(shown, /WebhookTest Delivered 1 of \d+ HTTP 200/);
        const delivery = await server.services.database.db.selectFrom('webhook_deliveries').select('id').where('app_id', '=', clientId).executeTakeFirstOrThrow();
        assert.equal((await anna.post(`/portal/apps/${clientId}/webhooks/deliveries/${delivery.id}/redeliver`, {})).statusCode, 303);
        await server.services.webhooks.runDue();
        assert.equal(receiver.received.length, 2);
        assert.equal(receiver.received[1]!.headers['x-aiia-eventid'], receiver.received[0]!.headers['x-aiia-eventid']);
        assert.match(text((await anna.get(`/portal/apps/${clientId}/webhooks`)).body), /WebhookTest \(redelivery\) Delivered/);
        const refused = await anna.post(`/portal/apps/${clientId}/webhooks`, { url: 'ftp://example.com/hook', secret: 'keep' });
        assert.equal(refused.statusCode, 400);
        assert.match(text(refused.body), /A webhook URL must use https/);
      } finally {
        await receiver.close();
      }
    });

    it('lists the app’s consents with their deadline, revokes one as the API does, and shows its deletion receipt', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const { clientId, clientSecret } = await anna.createApp('Budget Buddy', 'https://budget.example.com/callback');
      const { consentId } = await issueCode(server, { clientId, clientSecret, redirectUri: 'https://budget.example.com/callback', basic: basic(clientId, clientSecret) });
      const listed = text((await anna.get(`/portal/apps/${clientId}/consents`)).body);
      assert.match(listed, new RegExp(`${consentId} Active One-time .* Erased by 2026-01-16 12:00 UTC`));
      assert.equal((await anna.post(`/portal/apps/${clientId}/consents/${consentId}/revoke`, {})).statusCode, 303);
      const after = text((await anna.get(`/portal/apps/${clientId}/consents?done=revoked`)).body);
      assert.match(after, /Consent revoked/);
      assert.match(after, new RegExp(`Deletion receipts .*${consentId} 2026-01-15 12:00 UTC Revoked`));
      const api = await server.app.inject({ url: `/v1/consents/${consentId}`, headers: { authorization: basic(clientId, clientSecret) } });
      assert.equal(api.json().status, 'Deleted');
      const events = await server.services.database.db.selectFrom('events').select('event').where('consent_id', '=', consentId).orderBy('created_at').execute();
      assert.deepEqual(events.map((e) => e.event).sort(), ['ConsentRevoked', 'DataDeleted']);
      // Twice: the receipt stands, nothing breaks.
      assert.equal((await anna.post(`/portal/apps/${clientId}/consents/${consentId}/revoke`, {})).statusCode, 303);
    });

    it('shows the new name, logo and brand colour in the hosted flow, and refuses bad ones clearly', async () => {
      const anna = new PortalBrowser(server);
      await anna.signIn('anna@example.com');
      const { clientId } = await anna.createApp('Budget Buddy', 'https://budget.example.com/callback');
      await anna.get(`/portal/apps/${clientId}/settings`);
      const bad = await anna.post(`/portal/apps/${clientId}/settings`, { name: '', logoUrl: 'http://logo.example.com/x.png', brandColor: 'teal' });
      assert.equal(bad.statusCode, 400);
      const errors = text(bad.body);
      assert.match(errors, /Enter the app’s name/);
      assert.match(errors, /starting with https:\/\//);
      assert.match(errors, /six hex digits, like #0f766e/);
      const saved = await anna.post(`/portal/apps/${clientId}/settings`, { name: 'Budget Pal', logoUrl: 'https://cdn.example.com/pal.png', brandColor: '#0F766E' });
      assert.equal(saved.statusCode, 303);
      const connect = await server.app.inject({ url: `/v1/oauth/connect?client_id=${clientId}&redirect_uri=${encodeURIComponent('https://budget.example.com/callback')}&response_type=code&scope=accounts` });
      assert.equal(connect.statusCode, 301);
      const start = await server.app.inject({ url: String(connect.headers.location) });
      const consent = start.statusCode === 200 ? start : await server.app.inject({ url: String(start.headers.location), headers: { cookie: start.cookies.map((c) => `${c.name}=${c.value}`).join('; ') } });
      assert.equal(consent.statusCode, 200);
      assert.match(consent.body, /Budget Pal/);
      assert.match(consent.body, /src="https:\/\/cdn\.example\.com\/pal\.png"/);
      assert.match(consent.body, /\/flow\/theme\/0f766e\.css/);
    });

    it('with sign-up closed, lets in only invited addresses and operators', async () => {
      await server.close();
      server = await createTestServer(dialect, { FERRY_PORTAL_SIGNUP: 'closed', FERRY_PORTAL_OPERATORS: 'ops@ferry.example' });
      const stranger = new PortalBrowser(server);
      const page = await stranger.get('/portal/sign-in');
      assert.match(text(page.body), /by invitation/);
      const refused = await stranger.post('/portal/sign-in', { email: 'stranger@example.com' });
      assert.equal(refused.statusCode, 403);
      assert.match(text(refused.body), /This address has no invitation to this portal/);
      assert.equal((await server.services.database.db.selectFrom('sandbox_mail').select('id').execute()).length, 0, 'no code was sent');

      await invite(server.services.database.db, server.clock, ' Invited@Example.com ');
      await new PortalBrowser(server).signIn('invited@example.com');
      await new PortalBrowser(server).signIn('ops@ferry.example');
    });

    it('is linked from Ferry’s home page, stays out of the OpenAPI document, and answers a signed-out form post with the sign-in page', async () => {
      const home = await server.app.inject({ url: '/' });
      assert.equal(home.statusCode, 200);
      assert.match(home.body, /<a class="button" href="\/portal">Open the developer portal<\/a>/);
      assert.match(home.body, /<a href="\/account">My connections<\/a>/);
      const doc = (await server.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, unknown> };
      assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/portal') || p === '/'), []);
      const browser = new PortalBrowser(server);
      await browser.get('/portal/sign-in');
      const post = await browser.post('/portal/apps', { name: 'x', redirectUri: 'https://x.example.com/cb' });
      assert.equal(post.statusCode, 303);
      assert.equal(post.headers.location, '/portal/sign-in');
    });
  });
}

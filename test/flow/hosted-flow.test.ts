import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FLOW_IDLE_TIMEOUT_MS } from '../../src/flow/session.js';
import { DIALECTS } from '../helpers/database.js';
import { PUBLIC_URL, type TestClient } from '../helpers/server.js';
import { csrfOf, FlowBrowser, isRedirect, location, startFlow, walkToDone } from './flow-client.js';
import { createFlowTestClient, createFlowTestServer, type FlowTestServer } from './flow-server.js';

const APP_REDIRECT = 'https://app.example.com/callback';

for (const dialect of DIALECTS) {
  describe(`hosted flow: the seed page's five steps [${dialect}]`, () => {
    let server: FlowTestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createFlowTestServer(dialect);
      client = await createFlowTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const exchange = (code: string) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri }),
      });

    const flowRow = async (browser: FlowBrowser) =>
      server.services.database.db.selectFrom('flow_sessions').selectAll().where('id', '=', browser.flowId).executeTakeFirstOrThrow();

    it('walks consent → bank → login → accounts → done and returns code, consentId, state and iss; the token endpoint accepts the code', async () => {
      const { browser, page } = await startFlow(server, client);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h1 id="page-title">Share your bank data with Budget Buddy<\/h1>/);
      assert.match(page.body, /within 24 hours/);
      assert.match(page.body, /href="\/terms\?culture=en/);

      const bank = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(bank.body, /Choose your bank/);
      const login = await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      assert.match(login.body, /name="username"/);
      assert.match(login.body, /type="password"/);
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'alice', password: 'secret' });
      assert.match(accounts.body, /Choose the accounts to share/);
      const ids = [...accounts.body.matchAll(/name="account" value="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(ids.length >= 1);
      const done = await browser.submit(browser.path('accounts'), browser.path('accounts'), { account: ids, intent: 'share' });
      assert.match(done.body, /Your bank is connected/);
      assert.match(done.body, /Keep it in a Ferry account/, 'the one-time flow offers to claim the connection');

      const accept = await browser.post(browser.path('done'), { _csrf: csrfOf(done.body) });
      assert.equal(accept.statusCode, 303);
      const back = new URL(location(accept));
      assert.equal(`${back.origin}${back.pathname}`, APP_REDIRECT);
      assert.equal(back.searchParams.get('state'), 'st-1');
      assert.equal(back.searchParams.get('iss'), PUBLIC_URL);
      const consentId = back.searchParams.get('consentId');
      assert.ok(consentId);
      const token = await exchange(back.searchParams.get('code')!);
      assert.equal(token.statusCode, 200, token.body);

      const consent = await server.services.database.db.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(consent.one_time, 1);
      assert.equal(consent.provider_id, 'SandboxPasswordBank');
      // The flow row keeps nothing personal once the user is back at the app.
      const row = await flowRow(browser);
      assert.equal(row.step, 'returned');
      assert.doesNotMatch(row.data, /alice|accounts|connection/);
    });

    it('tells the regular flow (offline_access) how long it lasts, without a deletion time or an offer to claim', async () => {
      const browser = await walkToDone(server, client, { params: { scope: 'accounts offline_access' } });
      const consent = await startFlow(server, client, { scope: 'accounts offline_access' });
      assert.match(consent.page.body, /until you withdraw your consent/);
      assert.doesNotMatch(consent.page.body, /within 24 hours/);
      const done = await browser.get(browser.path('done'));
      assert.match(done.body, /Your bank is connected/);
      assert.doesNotMatch(done.body, /deletes all the data/);
      assert.doesNotMatch(done.body, /Keep it in a Ferry account/);
      const accept = await browser.post(browser.path('done'), { _csrf: csrfOf(done.body) });
      const consentId = new URL(location(accept)).searchParams.get('consentId')!;
      const row = await server.services.database.db.selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(row.one_time, 0);
      assert.equal(row.delete_at, null);
    });

    it('speaks the language of `culture` (Aiia codes, se and no included), then Accept-Language, then English', async () => {
      const cases: [Record<string, string>, Record<string, string>, string, RegExp][] = [
        [{ culture: 'da' }, {}, 'da', /Del dine bankdata med Budget Buddy/],
        [{ culture: 'se' }, {}, 'sv', /Dela dina bankuppgifter med Budget Buddy/],
        [{ culture: 'no' }, {}, 'nb-NO', /Del bankdataene dine med Budget Buddy/],
        [{ culture: 'fi' }, {}, 'fi', /Jaa pankkitietosi/],
        [{}, { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' }, 'de', /Bankdaten mit Budget Buddy teilen/],
        [{ culture: 'da' }, { 'accept-language': 'de' }, 'da', /Del dine bankdata/],
        [{}, { 'accept-language': 'ja' }, 'en', /Share your bank data/],
      ];
      for (const [params, headers, lang, title] of cases) {
        const { page } = await startFlow(server, client, params, headers);
        assert.match(page.body, new RegExp(`<html lang="${lang}">`), JSON.stringify(params));
        assert.match(page.body, title);
      }
    });

    it('formats money and times with Intl in the user’s language', async () => {
      const browser = await walkToDone(server, client, { params: { culture: 'da' } });
      await browser.post(browser.path('cancel'), { _csrf: 'x' }); // refused (wrong token): nothing happens
      const done = await browser.get(browser.path('done'));
      assert.match(done.body, /senest <time datetime="[^"]+" data-local>[a-zæøå]+dag \d+\. [a-zæøå]+ kl\. \d\d\.\d\d/);
      const { browser: other } = await startFlow(server, client, { culture: 'de' });
      await other.submit(other.path('consent'), other.path('consent'));
      await other.submit(other.path('bank'), other.path('bank'), { providerId: 'TestDataBank1' });
      const accounts = await other.submit(other.path('login'), other.path('login'), { username: 'bob', password: '1234' });
      assert.match(accounts.body, /\d{1,3}(\.\d{3})*,\d\d\s€|\d{1,3}(\.\d{3})*,\d\d\sDKK/);
    });

    it('keeps every step on its page: another step’s page, a reload and the back button go to where the flow is', async () => {
      const { browser } = await startFlow(server, client);
      for (const step of ['bank', 'login', 'accounts', 'done', 'end']) {
        const response = await browser.get(browser.path(step));
        assert.equal(response.statusCode, 303, step);
        assert.equal(location(response), browser.path('consent'));
      }
      await browser.submit(browser.path('consent'), browser.path('consent'));
      const back = await browser.get(browser.path('consent'));
      assert.equal(location(back), browser.path('bank'), 'back to the consent page after accepting');
      // A post for a step the flow has left does nothing and goes to the flow's step.
      const late = await browser.post(browser.path('consent'), { _csrf: csrfOf((await browser.get(browser.path('bank'))).body) });
      assert.equal(location(late), browser.path('bank'));
      assert.equal((await browser.get(browser.path('bank'))).statusCode, 200, 'reload');
      assert.equal((await flowRow(browser)).step, 'bank');
    });

    it('does a step’s work once when its form is posted twice (consent, login, accounts, accept)', async () => {
      const { browser } = await startFlow(server, client);
      const csrf = csrfOf((await browser.get(browser.path('consent'))).body);
      const twice = await Promise.all([browser.post(browser.path('consent'), { _csrf: csrf }), browser.post(browser.path('consent'), { _csrf: csrf })]);
      assert.deepEqual(twice.map(location), [browser.path('bank'), browser.path('bank')]);

      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      server.calls.clear();
      const form = { _csrf: csrf, username: 'alice', password: 'pw' };
      const logins = await Promise.all([browser.post(browser.path('login'), form), browser.post(browser.path('login'), form)]);
      assert.equal(server.calls.get('SandboxPasswordBank'), 1, 'the bank got the password once');
      assert.deepEqual(logins.map(location), [browser.path('accounts'), browser.path('accounts')]);

      const accounts = await browser.get(browser.path('accounts'));
      const account = /name="account" value="([^"]+)"/.exec(accounts.body)![1]!;
      const shares = await Promise.all([0, 1].map(() => browser.post(browser.path('accounts'), { _csrf: csrf, account, intent: 'share' })));
      assert.deepEqual(shares.map(location), [browser.path('done'), browser.path('done')]);
      const consents = await server.services.database.db.selectFrom('consents').select('id').execute();
      assert.equal(consents.length, 1, 'one consent');

      const accepts = await Promise.all([0, 1].map(() => browser.post(browser.path('done'), { _csrf: csrf })));
      const codes = await server.services.database.db.selectFrom('authorization_codes').select('hash').execute();
      assert.equal(codes.length, 1, 'one code');
      assert.equal(location(accepts[0]!), location(accepts[1]!), 'both answers lead back to the app with the same code');
      assert.ok(location(accepts[0]!).startsWith(APP_REDIRECT));
      // Once the app used the code, Accept again shows the finished page instead of replaying it.
      assert.equal((await exchange(new URL(location(accepts[0]!)).searchParams.get('code')!)).statusCode, 200);
      const again = await browser.post(browser.path('done'), { _csrf: csrf });
      assert.equal(location(again), browser.path('end'));
      const end = await browser.get(browser.path('end'));
      assert.match(end.body, /You are done here/);
      assert.match(end.body, /href="https:\/\/app\.example\.com\/"/);
    });

    it('refuses a post without this browser’s CSRF token, and changes nothing', async () => {
      const { browser } = await startFlow(server, client);
      for (const token of [undefined, 'forged', csrfOf((await startFlow(server, client)).page.body)]) {
        const response = await browser.post(browser.path('consent'), token === undefined ? {} : { _csrf: token });
        assert.equal(response.statusCode, 403);
        assert.match(response.body, /Please try again/);
        assert.match(response.body, new RegExp(`href="${browser.path('consent')}"`));
      }
      assert.equal((await flowRow(browser)).step, 'consent');
    });

    it('binds the flow to the first browser: HttpOnly, SameSite=Lax, Secure cookie; a second browser gets a page that leads back to the app', async () => {
      const { browser, handleUrl } = await startFlow(server, client);
      const row = await flowRow(browser);
      assert.ok(row.browser_hash);
      const again = await browser.get(handleUrl);
      assert.equal(again.statusCode, 303, 'the same browser opening its link again carries on');
      assert.equal(location(again), browser.path('consent'));

      const fresh = new FlowBrowser(server.app);
      const start = await fresh.get(handleUrl);
      assert.equal(start.statusCode, 403);
      assert.match(start.body, /opened in another browser/);
      const link = /class="button button-primary" href="([^"]+)"/.exec(start.body)![1]!.replaceAll('&amp;', '&');
      const target = new URL(link);
      assert.equal(target.searchParams.get('error'), 'access_denied');
      assert.equal(target.searchParams.get('state'), 'st-1');
      const steal = await fresh.get(browser.path('consent'));
      assert.equal(steal.statusCode, 403, 'the flow id without the cookie is worth nothing');

      const third = new FlowBrowser(server.app);
      const connect = await third.get(`/v1/oauth/connect?client_id=${client.clientId}&redirect_uri=${encodeURIComponent(client.redirectUri)}&response_type=code&scope=accounts`);
      const cookieHeader = String((await third.get(location(connect))).headers['set-cookie']);
      assert.match(cookieHeader, /HttpOnly/);
      assert.match(cookieHeader, /SameSite=Lax/);
      assert.match(cookieHeader, /Secure/);
      assert.match(cookieHeader, /Path=\/flow/);
    });

    it('expires after 30 minutes without activity, with a page that links back to the app; activity keeps it alive', async () => {
      const { browser } = await startFlow(server, client);
      server.clock.advance(20 * 60_000);
      assert.equal((await browser.get(browser.path('consent'))).statusCode, 200);
      server.clock.advance(20 * 60_000);
      assert.equal((await browser.get(browser.path('consent'))).statusCode, 200, '40 minutes in, but never 30 idle');
      server.clock.advance(FLOW_IDLE_TIMEOUT_MS + 1);
      const expired = await browser.get(browser.path('consent'));
      assert.equal(expired.statusCode, 410);
      assert.match(expired.body, /This session has expired/);
      const link = new URL(/class="button button-primary" href="([^"]+)"/.exec(expired.body)![1]!.replaceAll('&amp;', '&'));
      assert.equal(`${link.origin}${link.pathname}`, APP_REDIRECT);
      assert.equal(link.searchParams.get('error'), 'access_denied');
      assert.equal(link.searchParams.get('state'), 'st-1');
      const post = await browser.post(browser.path('consent'), { _csrf: 'whatever' });
      assert.equal(post.statusCode, 410);
    });

    it('answers an unknown link or flow with a page, never an error dump', async () => {
      const browser = new FlowBrowser(server.app);
      for (const url of ['/flow/start?f=unknown-handle-unknown-handle', '/flow/start', `/flow/${'A'.repeat(43)}/consent`, '/flow/short/consent']) {
        const response = await browser.get(url);
        assert.equal(response.statusCode, 404, url);
        assert.match(response.body, /This link does not work/);
      }
    });

    for (const step of ['consent', 'bank', 'login', 'accounts', 'done'] as const) {
      it(`cancel on the ${step} step goes back to the app with error=access_denied, error_description and state, and ends the flow`, async () => {
        let browser: FlowBrowser;
        if (step === 'done') browser = await walkToDone(server, client);
        else {
          ({ browser } = await startFlow(server, client));
          if (step !== 'consent') await browser.submit(browser.path('consent'), browser.path('consent'));
          if (step === 'login' || step === 'accounts') await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'TestDataBank2' });
          if (step === 'accounts') await browser.submit(browser.path('login'), browser.path('login'), { username: 'carol', password: '1234' });
        }
        const page = await browser.get(browser.path(step));
        assert.equal(page.statusCode, 200);
        assert.match(page.body, new RegExp(`action="${browser.path('cancel')}"`));
        const cancel = await browser.post(browser.path('cancel'), { _csrf: csrfOf(page.body) });
        assert.equal(cancel.statusCode, 303);
        const back = new URL(location(cancel));
        assert.equal(`${back.origin}${back.pathname}`, APP_REDIRECT);
        assert.equal(back.searchParams.get('error'), 'access_denied');
        assert.ok(back.searchParams.get('error_description'));
        assert.equal(back.searchParams.get('state'), 'st-1');
        assert.equal(back.searchParams.get('iss'), PUBLIC_URL);
        assert.equal(back.searchParams.get('code'), null);
        // The flow cannot be resumed: every step now shows the page that leads back to the app.
        assert.equal(location(await browser.get(browser.path(step))), browser.path('end'));
        const end = await browser.get(browser.path('end'));
        assert.match(end.body, /Cancelled/);
        assert.match(end.body, /error=access_denied/);
        if (step === 'done') {
          const consent = await server.services.database.db.selectFrom('consents').selectAll().executeTakeFirstOrThrow();
          assert.equal(consent.status, 'Revoked', 'a consent the user did not accept is revoked');
          assert.equal(consent.delete_at, server.clock.now());
        }
      });
    }

    it('recovers from a wrong password: says so at the field, keeps the user id, and the retry works', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      const wrong = await browser.submit(browser.path('login'), browser.path('login'), { username: 'wrongpassword', password: 'first' });
      assert.match(wrong.body, /<title>Error: /);
      assert.match(wrong.body, /role="alert"/);
      assert.match(wrong.body, /Wrong user ID or password/);
      assert.match(wrong.body, /id="field-password"[^>]*aria-invalid="true"/);
      assert.match(wrong.body, /aria-describedby="[^"]*field-password-error/);
      assert.match(wrong.body, /value="wrongpassword"/, 'the user id is kept');
      assert.doesNotMatch(wrong.body, /value="first"/, 'the password is not');
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'wrongpassword', password: 'second' });
      assert.match(accounts.body, /Choose the accounts to share/);
    });

    it('offers try again, another bank, or back to the app when the bank fails; back to the app says temporarily_unavailable', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'TestDataBank1' });
      const failed = await browser.submit(browser.path('login'), browser.path('login'), { username: 'unavailable', password: '1234' });
      assert.match(failed.body, /not available right now/);
      assert.match(failed.body, new RegExp(`action="${browser.path('login/retry')}"`));
      assert.match(failed.body, new RegExp(`action="${browser.path('bank/change')}"`));
      assert.match(failed.body, /Go back to Budget Buddy/);
      const retry = await browser.submit(browser.path('login'), browser.path('login/retry'));
      assert.match(retry.body, /name="password"/, 'try again starts a new login');
      await browser.submit(browser.path('login'), browser.path('login'), { username: 'unavailable', password: '1234' });
      const other = await browser.submit(browser.path('login'), browser.path('bank/change'));
      assert.match(other.body, /Choose your bank/, 'another bank');
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'TestDataBank1' });
      const again = await browser.submit(browser.path('login'), browser.path('login'), { username: 'unavailable', password: '1234' });
      const cancel = await browser.post(browser.path('cancel'), { _csrf: csrfOf(again.body) });
      assert.equal(new URL(location(cancel)).searchParams.get('error'), 'temporarily_unavailable');
    });

    it('does not offer to try again when the bank locked the login; going back says access_denied', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'TestDataBank1' });
      const locked = await browser.submit(browser.path('login'), browser.path('login'), { username: 'locked', password: '1234' });
      assert.match(locked.body, /locked/);
      assert.doesNotMatch(locked.body, /login\/retry/);
      const cancel = await browser.post(browser.path('cancel'), { _csrf: csrfOf(locked.body) });
      assert.equal(new URL(location(cancel)).searchParams.get('error'), 'access_denied');
    });

    it('shows a bank that is down as such, and refuses it when posted anyway', async () => {
      const { browser } = await startFlow(server, client);
      const bank = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(bank.body, /<button type="submit" name="providerId" value="SandboxClosedBank" class="bank-option" disabled aria-describedby="status-SandboxClosedBank">/);
      assert.match(bank.body, /id="status-SandboxClosedBank">Unavailable right now/);
      const refused = await browser.post(browser.path('bank'), { _csrf: csrfOf(bank.body), providerId: 'SandboxClosedBank' });
      assert.equal(location(refused), browser.path('bank'));
      assert.equal((await flowRow(browser)).step, 'bank');
      assert.equal(server.calls.get('SandboxClosedBank'), undefined);
    });

    it('searches banks without JavaScript and preselects the country of the language', async () => {
      const { browser } = await startFlow(server, client, { culture: 'da' });
      const bank = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(bank.body, /<option value="DK" selected>Danmark<\/option>/);
      assert.match(bank.body, /<section class="bank-group" aria-labelledby="country-NO" data-country="NO" hidden>/, 'other countries hidden');
      const search = await browser.get(`${browser.path('bank')}?q=app&country=`);
      assert.match(search.body, /<li data-bank="sandbox app bank">/);
      assert.match(search.body, /<li data-bank="test data bank 1" hidden>/);
      assert.match(search.body, />1 bank</);
      const none = await browser.get(`${browser.path('bank')}?q=zzz&country=`);
      assert.match(none.body, /Ingen banker passer til din søgning/);
    });

    it('skips the bank step with providerId, marks bank_account_numbers as required, and preselects with select_all_accounts', async () => {
      const provider = server.services.providers.get('TestDataBank1')!;
      const { browser, page } = await startFlow(server, client, { providerId: 'TestDataBank1' });
      assert.match(page.body, /Step 1 of 4/);
      const login = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(login.body, /Step 2 of 4/);
      assert.doesNotMatch(login.body, /bank\/change/, 'the app chose the bank: no other bank');
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'dave', password: '1234' });
      const ids = [...accounts.body.matchAll(/name="account" value="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(ids.length >= 2, 'a standard user has several accounts');
      void provider;

      // Second flow: the first account's number is required, every account preselected.
      const listed = await server.services.database.db.selectFrom('flow_sessions').select('data').where('id', '=', browser.flowId).executeTakeFirstOrThrow();
      const first = (JSON.parse(listed.data) as { accounts: { id: string; bban: string | null; iban: string | null }[] }).accounts[0]!;
      const number = (first.iban ?? first.bban)!;
      const second = await startFlow(server, client, { providerId: 'TestDataBank1', bank_account_numbers: number, select_all_accounts: 'true' });
      await second.browser.submit(second.browser.path('consent'), second.browser.path('consent'));
      const page2 = await second.browser.submit(second.browser.path('login'), second.browser.path('login'), { username: 'dave', password: '1234' });
      assert.match(page2.body, new RegExp(`value="${first.id}" checked disabled`), 'the required account is checked and fixed');
      assert.match(page2.body, /Budget Buddy needs this account/);
      const checked = [...page2.body.matchAll(/type="checkbox"[^>]*checked/g)].length;
      assert.equal(checked, ids.length, 'select_all_accounts preselects every account');
      // Posting only another account still shares the required one.
      const other = ids.find((id) => id !== first.id)!;
      await second.browser.post(second.browser.path('accounts'), { _csrf: csrfOf(page2.body), account: other, intent: 'share' });
      const consent = await server.services.database.db.selectFrom('flow_sessions').select('data').where('id', '=', second.browser.flowId).executeTakeFirstOrThrow();
      assert.equal((JSON.parse(consent.data) as { accountCount: number }).accountCount, 2);
    });

    it('needs at least one account: the error is announced and tied to the accounts', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'TestDataBank3' });
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'erin', password: '1234' });
      const none = await browser.post(browser.path('accounts'), { _csrf: csrfOf(accounts.body), intent: 'share' });
      assert.equal(location(none), `${browser.path('accounts')}?error=none`);
      const page = await browser.follow(none);
      assert.match(page.body, /<div class="error-summary" role="alert"/);
      assert.match(page.body, /<a href="#account-0">Choose at least one account to share\.<\/a>/);
      assert.match(page.body, /<fieldset class="accounts field-invalid" aria-describedby="accounts-error">/);
      assert.equal((await flowRow(browser)).step, 'accounts');
      const all = await browser.post(browser.path('accounts'), { _csrf: csrfOf(accounts.body), intent: 'select-all' });
      const selected = await browser.follow(all);
      assert.ok([...selected.body.matchAll(/type="checkbox"[^>]*checked/g)].length >= 2, 'select all without JavaScript');
    });

    it('logs in with a one-time code (PasswordAndOtp)', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxOtpBank' });
      const otp = await browser.submit(browser.path('login'), browser.path('login'), { username: 'frank', password: 'pw' });
      assert.match(otp.body, /autocomplete="one-time-code"/);
      assert.match(otp.body, /inputmode="numeric"/);
      const wrong = await browser.submit(browser.path('login'), browser.path('login'), { otp: '000000' });
      assert.match(wrong.body, /Wrong code/);
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { otp: '123456' });
      assert.match(accounts.body, /Choose the accounts to share/);
    });

    it('waits while the user approves in the bank app (Decoupled): a script asks for the status, without it the page refreshes itself', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxAppBank' });
      const waiting = await browser.submit(browser.path('login'), browser.path('login'), { username: 'grace' });
      assert.match(waiting.body, /Approve in your Sandbox App Bank app/);
      assert.match(waiting.body, /<noscript><meta http-equiv="refresh" content="2"\/><\/noscript>/);
      assert.match(waiting.body, new RegExp(`data-poll="${browser.path('login/status')}"`));
      const approveUrl = /href="(https:\/\/ferry\.test\/sandbox\/banks\/SandboxAppBank\/app\/[^"]+)"/.exec(waiting.body)![1]!;

      server.clock.advance(2_000);
      const status = await browser.get(browser.path('login/status'), { accept: 'application/json' });
      assert.deepEqual(status.json(), { waiting: true, pollAfterMs: 2000 });

      const phone = new FlowBrowser(server.app);
      const approve = await phone.post(approveUrl, { action: 'approve', pin: '1234' });
      assert.equal(approve.statusCode, 303, approve.body);

      server.clock.advance(2_000);
      const moved = await browser.get(browser.path('login/status'), { accept: 'application/json' });
      assert.deepEqual(moved.json(), { location: browser.path('login') });
      const accounts = await browser.open(browser.path('login'));
      assert.match(accounts.body, /Choose the accounts to share/);
    });

    it('without JavaScript, each reload of the waiting page asks the bank once it is due', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxAppBank' });
      const waiting = await browser.submit(browser.path('login'), browser.path('login'), { username: 'rejected' });
      assert.match(waiting.body, /Approve in your/);
      server.clock.advance(2_000);
      const failed = await browser.open(browser.path('login'));
      assert.match(failed.body, /rejected in the Sandbox App Bank app/);
    });

    it('sends the user to the bank and takes the answer back (Redirect)', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      const bank = await browser.get(browser.path('bank'));
      const toBank = await browser.post(browser.path('bank'), { _csrf: csrfOf(bank.body), providerId: 'SandboxRedirectBank' });
      assert.equal(toBank.statusCode, 303);
      const bankUrl = location(toBank);
      assert.match(bankUrl, /^https:\/\/ferry\.test\/sandbox\/banks\/SandboxRedirectBank\/login\?request=/);
      // The back button from the bank: the login page offers the way to the bank again.
      const back = await browser.get(browser.path('login'));
      assert.match(back.body, /Continue at Sandbox Redirect Bank/);
      const request = new URL(bankUrl).searchParams.get('request')!;
      const answer = await browser.post(bankUrl, { request, action: 'login', username: 'heidi', password: 'pw' });
      assert.equal(answer.statusCode, 303, answer.body);
      assert.match(location(answer), new RegExp(`/flow/${browser.flowId}/callback\\?`));
      const accounts = await browser.follow(answer);
      assert.match(accounts.body, /Choose the accounts to share/);
      // The bank's answer replayed (back button) does nothing: the flow is past the login.
      const replay = await browser.get(location(answer));
      assert.equal(location(replay), browser.path('accounts'));
    });

    it('serves pages with a strict CSP, no inline script or style, no-store and no referrer', async () => {
      const browser = await walkToDone(server, client, { params: {} });
      for (const step of ['done']) {
        const page = await browser.get(browser.path(step));
        const csp = String(page.headers['content-security-policy']);
        assert.match(csp, /script-src 'self'/);
        assert.match(csp, /style-src 'self'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.doesNotMatch(csp, /unsafe-inline/);
        assert.equal(page.headers['referrer-policy'], 'no-referrer');
        assert.equal(page.headers['cache-control'], 'no-store');
        assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]|style="|<style/);
      }
    });

    it('shows the app’s https logo, allowing that one origin for images and nothing else', async () => {
      const branded = await createFlowTestClient(server, { logoUrl: 'https://static.budgetbuddy.example/logo.svg' });
      const { page } = await startFlow(server, branded);
      assert.match(page.body, /<img class="app-logo" src="https:\/\/static\.budgetbuddy\.example\/logo\.svg" alt width="40" height="40"\/>/);
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /img-src 'self' data: https:\/\/static\.budgetbuddy\.example(;|$)/);
      assert.match(csp, /script-src 'self';/);
      const plain = await startFlow(server, client);
      assert.match(String(plain.page.headers['content-security-policy']), /img-src 'self' data:;/);
    });

    it('colours the pages with the app’s brand colour, darkened until white text on it passes AA', async () => {
      const yellow = await createFlowTestClient(server, { brandColor: '#FFD400' });
      const { page } = await startFlow(server, yellow);
      assert.match(page.body, /<link rel="stylesheet" href="\/flow\/theme\/ffd400\.css"\/>/);
      const css = await server.app.inject({ method: 'GET', url: '/flow/theme/ffd400.css' });
      assert.equal(css.statusCode, 200);
      const hex = /--brand: (#[0-9a-f]{6})/.exec(css.body)![1]!;
      const channel = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
      const luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      assert.ok(1.05 / (luminance + 0.05) >= 4.5, `${hex} on white`);
      assert.equal((await server.app.inject({ method: 'GET', url: '/flow/theme/nothex.css' })).statusCode, 404);
    });

    it('serves the terms of use and privacy policy in every language, and lets the operator point elsewhere', async () => {
      for (const culture of ['en', 'da', 'sv', 'nb', 'fi', 'de']) {
        for (const page of ['terms', 'privacy']) {
          const response = await server.app.inject({ method: 'GET', url: `/${page}?culture=${culture}` });
          assert.equal(response.statusCode, 200);
          assert.match(response.body, new RegExp(`<html lang="${culture === 'nb' ? 'nb-NO' : culture}">`));
          assert.match(response.body, /24/);
        }
      }
      const safe = await server.app.inject({ method: 'GET', url: '/terms?from=https://evil.example/' });
      assert.doesNotMatch(safe.body, /evil/);
      const other = await createFlowTestServer(dialect, { FERRY_TERMS_URL: 'https://operator.example/terms', FERRY_PRIVACY_URL: 'https://operator.example/privacy' });
      try {
        const otherClient = await createFlowTestClient(other);
        const { page } = await startFlow(other, otherClient);
        assert.match(page.body, /href="https:\/\/operator\.example\/terms"/);
        assert.match(page.body, /href="https:\/\/operator\.example\/privacy"/);
      } finally {
        await other.close();
      }
    });

    it('keeps the flow handle, cookies, usernames, passwords and codes out of the log', async () => {
      const { browser, handleUrl } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      await browser.submit(browser.path('login'), browser.path('login'), { username: 'wrongpassword', password: 'hunter2-first' });
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'wrongpassword', password: 'hunter2-second' });
      const account = /name="account" value="([^"]+)"/.exec(accounts.body)![1]!;
      const done = await browser.submit(browser.path('accounts'), browser.path('accounts'), { account, intent: 'share' });
      const accept = await browser.post(browser.path('done'), { _csrf: csrfOf(done.body) });
      const code = new URL(location(accept)).searchParams.get('code')!;
      const log = server.logs.join('\n');
      assert.ok(log.length > 0);
      const handle = new URL(handleUrl).searchParams.get('f')!;
      for (const secret of [handle, ...browser.cookies.values(), 'wrongpassword', 'hunter2', code]) assert.ok(!log.includes(secret), `log contains ${secret.slice(0, 6)}…`);
    });

    it('answers a post to a flow that is being worked on after the work, not before', async () => {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      // The slow user takes 50 ms at the bank; a reload meanwhile waits for the answer.
      const csrf = csrfOf((await browser.get(browser.path('login'))).body);
      const post = browser.post(browser.path('login'), { _csrf: csrf, username: 'slow', password: 'pw' });
      // Reload once the post has claimed the step (and is at the bank).
      for (let i = 0; i < 200 && (await flowRow(browser)).step !== 'login:busy'; i++) await new Promise((resolve) => setTimeout(resolve, 2));
      const reload = await browser.get(browser.path('login'));
      assert.ok(isRedirect(reload) && location(reload) === browser.path('accounts'), `reload answered ${reload.statusCode} ${location(reload)}`);
      assert.equal(location(await post), browser.path('accounts'));
    });
  });
}

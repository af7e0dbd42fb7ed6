import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sweepExpiredConsents } from '../../src/consents/retention.js';
import { KEPT_APP_ID } from '../../src/accounts/claim.js';
import { listApps } from '../../src/apps/apps.js';
import { CODE_TTL_MS } from '../../src/accounts/identity.js';
import { runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import type { TestClient } from '../helpers/server.js';
import { csrfOf, FlowBrowser, location, mailedCode, signInAtFlowStep, startFlow, walkToDone } from '../flow/flow-client.js';
import { createFlowTestClient, createFlowTestServer, type FlowTestServer } from '../flow/flow-server.js';

const REGULAR = { scope: 'accounts offline_access' };

for (const dialect of DIALECTS) {
  describe(`Ferry accounts: the regular flow's sign-in, My connections, claiming (issue #6) [${dialect}]`, () => {
    let server: FlowTestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createFlowTestServer(dialect);
      client = await createFlowTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const db = () => server.services.database.db;
    const exchange = async (redirect: string) => {
      const code = new URL(redirect).searchParams.get('code')!;
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri }),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { access_token: string; refresh_token: string };
    };
    const bearer = (url: string, token: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const accept = async (browser: FlowBrowser) => {
      const done = await browser.get(browser.path('done'));
      const back = await browser.post(browser.path('done'), { _csrf: csrfOf(done.body) });
      assert.equal(back.statusCode, 303);
      return location(back);
    };

    it('regular flow: after the consent the user signs up with a code sent by email (prefilled from `email`), and the consent is theirs', async () => {
      const { browser } = await startFlow(server, client, { ...REGULAR, email: 'Ada@Example.org' });
      const signIn = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(signIn.body, /<h1 id="page-title">Sign in or create a Ferry account<\/h1>/);
      assert.match(signIn.body, /Step 2 of 6/);
      assert.match(signIn.body, /name="email"[^>]*value="Ada@Example.org"|value="Ada@Example.org"[^>]*name="email"/);

      const invalid = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'send', email: 'not-an-address' });
      assert.equal(invalid.statusCode, 400);
      assert.match(invalid.body, /Enter an email address like name@example.com/);

      const codePage = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'send', email: 'Ada@Example.org' });
      assert.match(codePage.body, /Check your email/);
      assert.match(codePage.body, /We sent a 6-digit code to ada@example.org/);
      const code = await mailedCode(server, 'ada@example.org');
      const wrongCode = code === '000000' ? '111111' : '000000';
      const wrong = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'verify', code: wrongCode });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /That code is not right. Check the email and try again \(4 tries left\)/);

      const bank = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'verify', code });
      assert.match(bank.body, /Choose your bank/);
      assert.ok(browser.cookies.has('ferry_account'), 'signed in: the session cookie is set');
      const login = await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      assert.match(login.body, /name="username"/);
      const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: 'ada', password: '1234' });
      const accountId = /name="account" value="([^"]+)"/.exec(accounts.body)![1]!;
      await browser.submit(browser.path('accounts'), browser.path('accounts'), { account: accountId, intent: 'share' });
      const back = new URL(await accept(browser));
      assert.equal(back.origin + back.pathname, client.redirectUri);
      await exchange(back.toString());

      const user = await db().selectFrom('users').selectAll().where('email', '=', 'ada@example.org').executeTakeFirstOrThrow();
      const consent = await db().selectFrom('consents').selectAll().where('id', '=', back.searchParams.get('consentId')!).executeTakeFirstOrThrow();
      assert.equal(consent.user_id, user.id);
      assert.equal(consent.one_time, 0);
      // Nothing of the sign-in is left in the flow's row.
      const flow = await db().selectFrom('flow_sessions').select('data').where('id', '=', browser.flowId).executeTakeFirstOrThrow();
      assert.doesNotMatch(flow.data, /ada@example.org|signIn/);

      // My connections, in the same browser: the app, the bank, the account.
      const mine = await browser.open('/account');
      assert.match(mine.body, /<h1 id="page-title">My connections<\/h1>/);
      assert.match(mine.body, /Signed in as ada@example.org/);
      assert.match(mine.body, /<h2 id="connection-[^"]+">Budget Buddy<\/h2>/);
      assert.match(mine.body, /Sandbox Password Bank|SandboxPasswordBank/);
      assert.match(mine.body, /Stop sharing with Budget Buddy/);
      // Neither the address nor a code reached the log.
      const logs = server.logs.join('');
      assert.match(logs, /sign-in code refused/);
      assert.doesNotMatch(logs, /ada@example\.org/i);
      assert.doesNotMatch(logs, new RegExp(`\\b(${code}|${wrongCode})\\b`));
    });

    it('the one-time flow has no account step', async () => {
      const { browser } = await startFlow(server, client);
      const bank = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(bank.body, /Choose your bank/);
      assert.match(bank.body, /Step 2 of 5/);
      assert.equal((await browser.get(browser.path('signin'))).statusCode, 303, 'the sign-in step is not this flow’s');
    });

    it('a browser already signed in goes on as that user, or signs in as another; an expired code says so', async () => {
      const first = await walkToDone(server, client, { params: REGULAR, email: 'bo@example.org' });
      await accept(first);
      // The same browser starts another regular flow.
      const browser = new FlowBrowser(server.app);
      for (const [k, v] of first.cookies) if (k === 'ferry_account') browser.cookies.set(k, v);
      const started = await browser.get(`/v1/oauth/connect?${new URLSearchParams({ client_id: client.clientId, redirect_uri: client.redirectUri, response_type: 'code', ...REGULAR, state: 's2' })}`);
      const start = await browser.get(location(started));
      browser.flowId = /\/flow\/([^/]+)\//.exec(location(start))![1]!;
      const page = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(page.body, /Continue as bo@example.org/);
      assert.match(page.body, /Use another account/);

      const another = await browser.get(`${browser.path('signin')}?another=1`);
      assert.match(another.body, /name="email"/);
      await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'send', email: 'cy@example.org' });
      const code = await mailedCode(server, 'cy@example.org');
      server.clock.advance(CODE_TTL_MS);
      const expired = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'verify', code });
      assert.equal(expired.statusCode, 400);
      assert.match(expired.body, /That code has expired or was already used. Send a new code./);
      const resent = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'resend' });
      assert.match(resent.body, /We sent a new code/);
      const bank = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'verify', code: await mailedCode(server, 'cy@example.org') });
      assert.match(bank.body, /Choose your bank/);

      // "Continue as": a third flow in a browser signed in as cy goes straight on.
      const third = await startFlow(server, client, REGULAR);
      third.browser.cookies.set('ferry_account', browser.cookies.get('ferry_account')!);
      const cont = await third.browser.submit(third.browser.path('consent'), third.browser.path('consent'));
      assert.match(cont.body, /Continue as cy@example.org/);
      const bank3 = await third.browser.submit(third.browser.path('signin'), third.browser.path('signin'), { intent: 'continue' });
      assert.match(bank3.body, /Choose your bank/);
      const flow = await db().selectFrom('flow_sessions').select('data').where('id', '=', third.browser.flowId).executeTakeFirstOrThrow();
      const cy = await db().selectFrom('users').select('id').where('email', '=', 'cy@example.org').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(flow.data).userId, cy.id);
    });

    it('`consentId` prefills the address of that consent’s user', async () => {
      const first = await walkToDone(server, client, { params: REGULAR, email: 'dee@example.org' });
      const consentId = new URL(await accept(first)).searchParams.get('consentId')!;
      const { browser } = await startFlow(server, client, { ...REGULAR, consentId });
      const signIn = await browser.submit(browser.path('consent'), browser.path('consent'));
      assert.match(signIn.body, /value="dee@example.org"/);
    });

    it('My connections: revoking erases the consent’s data at once and tells the app (ConsentRevoked, DataDeleted)', async () => {
      const browser = await walkToDone(server, client, { params: REGULAR, email: 'eve@example.org' });
      const redirect = await accept(browser);
      const consentId = new URL(redirect).searchParams.get('consentId')!;
      const tokens = await exchange(redirect);
      await runJobs(server);
      assert.equal((await bearer('/v1/accounts', tokens.access_token)).statusCode, 200);

      const mine = await browser.open('/account');
      const href = `/account/connections/${consentId}/revoke`;
      assert.match(mine.body, new RegExp(`href="${href}"`));
      const confirm = await browser.get(href);
      assert.match(confirm.body, /Stop sharing with Budget Buddy\?/);
      // A forged post (no token) does nothing.
      const forged = await browser.post(href, { _csrf: 'forged' });
      assert.equal(forged.statusCode, 403);
      assert.ok(await db().selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst());
      // Another user cannot revoke it.
      const other = new FlowBrowser(server.app);
      await signInAtAccount(other, 'mallory@example.org');
      const refused = await other.follow(await other.post(href, { _csrf: csrfOf((await other.get('/account')).body) }));
      assert.match(refused.body, /That connection is not in your account/);
      assert.ok(await db().selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst());

      const done = await browser.follow(await browser.post(href, { _csrf: csrfOf(confirm.body) }));
      assert.match(done.body, /Done. The data of that connection is erased./);
      assert.match(done.body, /You do not share bank data with any app/);
      assert.equal(await db().selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst(), undefined);
      assert.equal((await db().selectFrom('accounts').select('id').where('consent_id', '=', consentId).execute()).length, 0);
      assert.equal((await db().selectFrom('transactions').select('id').where('consent_id', '=', consentId).execute()).length, 0);
      const receipt = await db().selectFrom('deletion_receipts').selectAll().where('consent_id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(receipt.reason, 'ConsentRevoked');
      const events = (await db().selectFrom('events').select('event').where('consent_id', '=', consentId).orderBy('created_at').execute()).map((e) => e.event);
      assert.deepEqual(events.slice(-2), ['ConsentRevoked', 'DataDeleted']);
      assert.equal((await bearer('/v1/accounts', tokens.access_token)).statusCode, 401);
      const view = await server.app.inject({ method: 'GET', url: `/v1/consents/${consentId}`, headers: { authorization: client.basic } });
      assert.equal(view.json().status, 'Deleted');
    });

    /** Signs a fresh browser in at /account/sign-in. */
    async function signInAtAccount(browser: FlowBrowser, email: string) {
      const page = await browser.open('/account');
      assert.match(page.body, /Sign in to Ferry/);
      const codePage = await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'send', email });
      assert.match(codePage.body, /Check your email/);
      return browser.submit('/account/sign-in', '/account/sign-in', { intent: 'verify', code: await mailedCode(server, email) });
    }

    it('sign-in at /account: wrong code, then the right one; sign-out ends the session', async () => {
      const browser = new FlowBrowser(server.app);
      await browser.open('/account');
      await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'send', email: 'fay@example.org' });
      const code = await mailedCode(server, 'fay@example.org');
      const wrong = await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'verify', code: code === '123456' ? '654321' : '123456' });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /That code is not right/);
      const mine = await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'verify', code });
      assert.match(mine.body, /My connections/);
      assert.match(mine.body, /You do not share bank data with any app/);
      const out = await browser.follow(await browser.post('/account/sign-out', { _csrf: csrfOf(mine.body) }));
      assert.match(out.body, /You are signed out/);
      const again = await browser.open('/account');
      assert.match(again.body, /Sign in to Ferry/);
    });

    it('claiming at step 5: the data outlives the deadline in the user’s account; the app’s access ends at the deadline', async () => {
      const browser = await walkToDone(server, client, { username: 'gus' });
      const done = await browser.get(browser.path('done'));
      const toClaim = await browser.post(browser.path('claim'), { _csrf: csrfOf(done.body) });
      assert.equal(toClaim.statusCode, 303);
      const claimUrl = location(toClaim);
      assert.match(claimUrl, /^\/account\/claim\?flow=[^&]+&ticket=/);
      const signIn = await browser.follow(await browser.get(claimUrl));
      assert.match(signIn.body, /<h1 id="page-title">Keep your connection<\/h1>/);
      assert.match(signIn.body, /Budget Buddy’s one-time access still ends as agreed/);
      await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'send', email: 'gus@example.org' });
      const kept = await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'verify', code: await mailedCode(server, 'gus@example.org') });
      assert.match(kept.body, /Connection kept in your Ferry account/);
      assert.match(kept.body, /saved in the Ferry account gus@example.org/);
      assert.match(kept.body, /Continue to Budget Buddy/);
      // Back on the done page: it says the connection is kept instead of offering it again.
      const doneAgain = await browser.open(browser.path('done'));
      assert.match(doneAgain.body, /Connection kept in your Ferry account/);
      assert.doesNotMatch(doneAgain.body, /Keep it in a Ferry account/);
      // The same link again: spent.
      const reused = await browser.get(claimUrl);
      assert.equal(reused.statusCode, 404);
      assert.match(reused.body, /This link does not work/);

      // Continue: the app still gets its code.
      const redirect = location(await browser.post(browser.path('done'), { _csrf: csrfOf(kept.body) }));
      assert.ok(redirect.startsWith(client.redirectUri));
      const consentId = new URL(redirect).searchParams.get('consentId')!;
      const tokens = await exchange(redirect);
      await runJobs(server);
      const accounts = (await bearer('/v1/accounts', tokens.access_token)).json().accounts as { id: string; name: string }[];
      const transactions = (await bearer(`/v1/accounts/${accounts[0]!.id}/transactions?pageSize=1000`, tokens.access_token)).json().transactions as unknown[];
      assert.ok(accounts.length >= 1 && transactions.length > 0);
      const user = await db().selectFrom('users').selectAll().where('email', '=', 'gus@example.org').executeTakeFirstOrThrow();
      const consent = await db().selectFrom('consents').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(consent.claimed_by, user.id);
      const deadline = consent.delete_at!;
      const stored = await db().selectFrom('transactions').select('id').where('consent_id', '=', consentId).execute();
      assert.ok(stored.length >= transactions.length);

      const mine = await browser.open('/account');
      assert.match(mine.body, /One-time: Budget Buddy can read it until/);

      const refresh = (refreshToken: string) =>
        server.app.inject({
          method: 'POST',
          url: '/v1/oauth/token',
          headers: { authorization: client.basic, 'content-type': 'application/json' },
          payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }),
        });
      server.clock.set(deadline - 1000);
      const late = await refresh(tokens.refresh_token);
      assert.equal(late.statusCode, 200, 'one second before, the app may refresh');
      const lateToken = late.json().access_token as string;
      assert.equal((await bearer('/v1/accounts', lateToken)).statusCode, 200, 'and read');
      server.clock.set(deadline);
      assert.equal((await bearer('/v1/accounts', lateToken)).statusCode, 401, 'at the deadline, with no sweep yet, the app reads nothing');
      assert.equal((await refresh(late.json().refresh_token)).statusCode, 400, 'nor refreshes');

      const report = await sweepExpiredConsents({ db: db(), capabilities: server.services.database.capabilities, clock: server.clock });
      assert.equal(report.erased, 1);
      // The app's consent is gone, with its receipt and DataDeleted; its token stays refused.
      assert.equal(await db().selectFrom('consents').select('id').where('id', '=', consentId).executeTakeFirst(), undefined);
      const receipt = await db().selectFrom('deletion_receipts').selectAll().where('consent_id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(receipt.app_id, client.clientId);
      assert.ok((await db().selectFrom('events').select('event').where('consent_id', '=', consentId).where('event', '=', 'DataDeleted').execute()).length === 1);
      assert.equal((await bearer('/v1/accounts', lateToken)).statusCode, 401);
      const appView = await server.app.inject({ method: 'GET', url: `/v1/consents/${consentId}`, headers: { authorization: client.basic } });
      assert.equal(appView.json().status, 'Deleted');
      // A scan: the app reaches nothing of the user's data; the user's copy holds it all.
      const appAccounts = await db().selectFrom('accounts').innerJoin('consents', 'consents.id', 'accounts.consent_id').select('accounts.id').where('consents.app_id', '=', client.clientId).execute();
      assert.equal(appAccounts.length, 0);
      const keptConsent = await db().selectFrom('consents').selectAll().where('claimed_by', 'is', null).where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal(keptConsent.app_id, KEPT_APP_ID);
      assert.equal(keptConsent.delete_at, null);
      const keptAccounts = await db().selectFrom('accounts').select(['id', 'name']).where('consent_id', '=', keptConsent.id).execute();
      assert.deepEqual(keptAccounts.map((a) => a.id).sort(), accounts.map((a) => a.id).sort());
      const keptTransactions = await db().selectFrom('transactions').select('id').where('consent_id', '=', keptConsent.id).execute();
      assert.deepEqual(keptTransactions.map((t) => t.id).sort(), stored.map((t) => t.id).sort());
      assert.ok(await db().selectFrom('connections').select('consent_id').where('consent_id', '=', keptConsent.id).executeTakeFirst());
      // No client can authenticate as the app that holds kept data.
      const asFerry = await server.app.inject({ method: 'GET', url: `/v1/consents/${keptConsent.id}`, headers: { authorization: `Basic ${Buffer.from(`${KEPT_APP_ID}:!`).toString('base64')}` } });
      assert.equal(asFerry.statusCode, 401);
      assert.ok(!(await listApps(db())).some((a) => a.id === KEPT_APP_ID), 'and it is listed as no app');

      // Later: the user sees the kept connection and may delete it.
      server.clock.advance(3 * 24 * 3600_000);
      const later = await signInAtAccount(new FlowBrowser(server.app), 'gus@example.org');
      assert.match(later.body, /Kept in your Ferry account/);
      assert.match(later.body, new RegExp(accounts[0]!.name));
      assert.match(later.body, /Delete this data/);
      const ticket = new URL(claimUrl, 'https://x').searchParams.get('ticket')!;
      assert.doesNotMatch(server.logs.join(''), new RegExp(`gus@example\\.org|${ticket.replace(/[-]/g, '\\-')}`));
    });

    it('a browser already signed in claims with one press, and may go back to the flow instead', async () => {
      const browser = await walkToDone(server, client, { username: 'ivy' });
      const signedIn = new FlowBrowser(server.app);
      await signInAtAccount(signedIn, 'ivy@example.org');
      browser.cookies.set('ferry_account', signedIn.cookies.get('ferry_account')!);
      const done = await browser.get(browser.path('done'));
      const confirm = await browser.follow(await browser.post(browser.path('claim'), { _csrf: csrfOf(done.body) }));
      assert.match(confirm.body, /Keep it in the account ivy@example.org/);
      assert.match(confirm.body, new RegExp(`href="/flow/${browser.flowId}/done"`), 'a way back to the flow');
      const kept = await browser.follow(await browser.post('/account/claim', { _csrf: csrfOf(confirm.body) }));
      assert.match(kept.body, /Connection kept in your Ferry account/);
      const ivy = await db().selectFrom('users').select('id').where('email', '=', 'ivy@example.org').executeTakeFirstOrThrow();
      const flow = await db().selectFrom('flow_sessions').select('consent_id').where('id', '=', browser.flowId).executeTakeFirstOrThrow();
      const consent = await db().selectFrom('consents').select('claimed_by').where('id', '=', flow.consent_id!).executeTakeFirstOrThrow();
      assert.equal(consent.claimed_by, ivy.id);
    });

    it('a claim link with a wrong ticket is refused with a page', async () => {
      const browser = await walkToDone(server, client);
      const page = await browser.get(`/account/claim?flow=${browser.flowId}&ticket=not-the-ticket`);
      assert.equal(page.statusCode, 404);
      assert.match(page.body, /This link does not work/);
      const none = await new FlowBrowser(server.app).get('/account/claim');
      assert.equal(none.statusCode, 404);
    });

    it('the sandbox mailbox page shows the mail, newest first, and says why', async () => {
      const browser = new FlowBrowser(server.app);
      await signInAtAccount(browser, 'hal@example.org');
      await browser.submit('/account/sign-in?another=1', '/account/sign-in', { intent: 'send', email: 'ida@example.org' });
      const mailbox = await browser.get('/sandbox/mailbox');
      assert.equal(mailbox.statusCode, 200);
      assert.match(mailbox.body, /Sandbox mailbox: no mail server is configured, mail Ferry would send is shown here./);
      assert.match(mailbox.body, /ida@example.org[\s\S]*Your code to sign in to Ferry is \d{6}/);
    });
  });
}

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sweepExpiredConsents } from '../../src/consents/retention.js';
import { checkStep, PhonePages } from './browser-checks.js';
import { exchangeCode, launchBrowser, startFerry, type E2eFerry } from './harness.js';

/**
 * Ferry accounts in a real browser (issue #6): the regular flow's sign-up by a code read from the
 * sandbox mailbox page, My connections and revoking from it, and claiming from step 5, after which
 * the data outlives the deadline in the user's account and the app's token does not. Axe, reflow
 * at 320 px and screenshots (390×844 and 1280×800, test-artifacts/flow/accounts) on every new page.
 */
describe('Ferry accounts in Chromium', { timeout: 300_000 }, () => {
  let browser: Browser;
  let ferry: E2eFerry;
  const pages = new PhonePages(() => browser);

  before(async () => {
    browser = await launchBrowser();
    ferry = await startFerry();
  });
  after(async () => {
    await browser?.close();
    await ferry?.close();
  });
  afterEach(() => pages.finish());

  const stepUrl = (step: string) => new RegExp(`/flow/[A-Za-z0-9_-]{43}/${step}(\\?|$)`);
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const basic = () => ({ headers: { authorization: `Basic ${Buffer.from(`${ferry.client.clientId}:${ferry.client.clientSecret}`).toString('base64')}` } });

  /** Reads the newest code sent to `email` from the sandbox mailbox page, in another tab, as a tester would. */
  async function codeFromMailbox(email: string, check?: string): Promise<string> {
    const mailbox = await pages.context.newPage();
    await mailbox.goto(`${ferry.baseUrl}/sandbox/mailbox`);
    await mailbox.getByText('Sandbox mailbox: no mail server is configured, mail Ferry would send is shown here.').waitFor();
    if (check !== undefined) await checkStep(mailbox, 'sandbox mailbox', check);
    const newest = mailbox.locator('li.mail').filter({ hasText: email }).first();
    const body = await newest.locator('.mail-body').innerText();
    await mailbox.close();
    const code = /\b(\d{6})\b/.exec(body)?.[1];
    assert.ok(code, `a code in the mail: ${body}`);
    return code;
  }

  /** Email, then the code from the mailbox; the page that follows. */
  async function signInWithCode(page: Page, email: string, checks?: { email: string; code: string; mailbox: string }) {
    if (checks !== undefined) await checkStep(page, 'sign-in: email', checks.email);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    if (checks !== undefined) await checkStep(page, 'sign-in: code', checks.code);
    const code = await codeFromMailbox(email, checks?.mailbox);
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
  }

  async function bankLoginAndShare(page: Page, username: string) {
    await page.waitForURL(stepUrl('bank'));
    await page.locator('#bank-query').fill('password');
    await page.getByRole('button', { name: /Sandbox Password Bank/ }).click();
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill(username);
    await page.locator('#field-password').fill('pw');
    await page.locator('#field-password').press('Enter');
    await page.waitForURL(stepUrl('accounts'));
    await page.locator('input[name="account"][type="checkbox"]').first().check();
    await page.getByRole('button', { name: /Share selected accounts/ }).click();
    await page.waitForURL(stepUrl('done'));
  }

  async function backAtAppWithTokens(page: Page) {
    await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);
    const query = new URL(page.url()).searchParams;
    const token = await exchangeCode(ferry, query.get('code')!);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return { consentId: query.get('consentId')!, accessToken: String(token.body.access_token) };
  }

  it('regular flow: signs up by a code from the sandbox mailbox, then stops sharing from My connections', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl({ scope: 'accounts offline_access', email: 'nora@example.org' }));
    await page.waitForURL(stepUrl('consent'));
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await page.waitForURL(stepUrl('signin'));
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Sign in or create a Ferry account');
    assert.equal(await page.getByLabel('Email address').inputValue(), 'nora@example.org', 'prefilled from the email parameter');
    // A wrong code first: the page says so.
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const real = await codeFromMailbox('nora@example.org');
    await page.getByLabel('Code from the email').fill(real === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.getByText('That code is not right.', { exact: false }).first().waitFor();
    await checkStep(page, 'sign-in: wrong code', 'accounts/1-flow-signin-wrong-code');
    await page.getByRole('button', { name: 'Use another email address' }).click();
    await page.getByLabel('Email address').waitFor();
    await signInWithCode(page, 'nora@example.org', { email: 'accounts/1-flow-signin-email', code: 'accounts/1-flow-signin-code', mailbox: 'accounts/0-sandbox-mailbox' });
    await bankLoginAndShare(page, 'nora');
    await page.getByRole('button', { name: /^Accept$/ }).click();
    const { consentId, accessToken } = await backAtAppWithTokens(page);
    assert.equal((await fetch(`${ferry.baseUrl}/v1/accounts`, bearer(accessToken))).status, 200);

    // A second regular flow in this browser: "Continue as".
    await page.goto(ferry.connectUrl({ scope: 'accounts offline_access', state: 'second' }));
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await page.waitForURL(stepUrl('signin'));
    await page.getByRole('button', { name: 'Continue as nora@example.org' }).waitFor();
    await checkStep(page, 'sign-in: continue as', 'accounts/1-flow-signin-continue');
    await page.getByRole('button', { name: /Cancel and go back/ }).click();
    await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);

    await page.goto(`${ferry.baseUrl}/account`);
    await page.getByRole('heading', { level: 1, name: 'My connections' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Budget Buddy' }).waitFor();
    await page.getByText('Signed in as nora@example.org').waitFor();
    await checkStep(page, 'my connections', 'accounts/2-my-connections');
    await page.getByRole('link', { name: 'Stop sharing with Budget Buddy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Stop sharing with Budget Buddy?' }).waitFor();
    await checkStep(page, 'revoke confirm', 'accounts/3-revoke-confirm');
    await page.getByRole('button', { name: 'Stop sharing and erase' }).click();
    await page.getByText('Done. The data of that connection is erased.').waitFor();
    await page.getByText('You do not share bank data with any app through this account.').waitFor();
    await checkStep(page, 'my connections after revoking', 'accounts/4-revoked');

    // The app's access ended, and it can see the receipt.
    assert.equal((await fetch(`${ferry.baseUrl}/v1/accounts`, bearer(accessToken))).status, 401);
    const view = (await (await fetch(`${ferry.baseUrl}/v1/consents/${consentId}`, basic())).json()) as { status: string; receipt: { reason: string } };
    assert.equal(view.status, 'Deleted');
    assert.equal(view.receipt.reason, 'ConsentRevoked');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await checkStep(page, 'account sign-in', 'accounts/5-account-sign-in');
  });

  it('claiming at step 5: the data outlives the deadline in the user’s account; the app’s token does not', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await bankLoginAndShare(page, 'otto');
    await page.getByRole('button', { name: 'Keep it in a Ferry account' }).click();
    await page.waitForURL(/\/account\/sign-in$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Keep your connection');
    await signInWithCode(page, 'otto@example.org', { email: 'accounts/6-claim-sign-in', code: 'accounts/6-claim-code', mailbox: 'accounts/6-claim-mailbox' });
    await page.waitForURL(stepUrl('claimed'));
    await page.getByRole('heading', { level: 1, name: 'Connection kept in your Ferry account' }).waitFor();
    await checkStep(page, 'claimed', 'accounts/7-claimed');
    await page.getByRole('button', { name: 'Continue to Budget Buddy' }).click();
    const { consentId, accessToken } = await backAtAppWithTokens(page);
    await ferry.services.jobs.runDue();
    const accounts = (await (await fetch(`${ferry.baseUrl}/v1/accounts`, bearer(accessToken))).json()) as { accounts: { name: string }[] };
    assert.ok(accounts.accounts.length >= 1);

    await page.goto(`${ferry.baseUrl}/account`);
    await page.getByText(/One-time: Budget Buddy can read it until/).waitFor();
    await checkStep(page, 'my connections with a claimed connection', 'accounts/8-claimed-connection');

    // Past the deadline: the app reads nothing (before any sweep), then the sweep keeps the user's copy.
    const consent = await ferry.testDb.database.db.selectFrom('consents').select('delete_at').where('id', '=', consentId).executeTakeFirstOrThrow();
    ferry.clock.offset = consent.delete_at! - Date.now() + 1000;
    assert.equal((await fetch(`${ferry.baseUrl}/v1/accounts`, bearer(accessToken))).status, 401);
    const report = await sweepExpiredConsents({ db: ferry.testDb.database.db, capabilities: ferry.testDb.database.capabilities, clock: ferry.clock });
    assert.equal(report.erased, 1);
    assert.equal((await fetch(`${ferry.baseUrl}/v1/accounts`, bearer(accessToken))).status, 401);
    const view = (await (await fetch(`${ferry.baseUrl}/v1/consents/${consentId}`, basic())).json()) as { status: string; receipt: { reason: string } };
    assert.equal(view.status, 'Deleted');
    assert.equal(view.receipt.reason, 'OneTimeRetention');

    // A day later the session has ended (12 hours idle): the user signs in again and finds the data kept.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Ferry' }).waitFor();
    await signInWithCode(page, 'otto@example.org');
    await page.getByRole('heading', { level: 2, name: 'Kept in your Ferry account' }).waitFor();
    await page.getByText(accounts.accounts[0]!.name).first().waitFor();
    await checkStep(page, 'my connections with kept data', 'accounts/9-kept');
    await page.getByRole('link', { name: 'Delete this data' }).click();
    await page.getByRole('heading', { level: 1, name: 'Delete the kept data?' }).waitFor();
    await checkStep(page, 'delete kept data', 'accounts/10-delete-kept');
    ferry.clock.offset = 0;
  });

  it('claiming in a browser already signed in: one press on the confirm page', async () => {
    const page = await pages.newPage();
    await page.goto(`${ferry.baseUrl}/account`);
    await signInWithCode(page, 'pia@example.org');
    await page.getByRole('heading', { level: 1, name: 'My connections' }).waitFor();
    await page.goto(ferry.connectUrl());
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await bankLoginAndShare(page, 'pia');
    await page.getByRole('button', { name: 'Keep it in a Ferry account' }).click();
    await page.waitForURL(/\/account\/claim$/);
    await page.getByRole('button', { name: 'Keep it in the account pia@example.org' }).waitFor();
    await checkStep(page, 'claim confirm', 'accounts/6-claim-confirm');
    await page.getByRole('button', { name: 'Keep it in the account pia@example.org' }).click();
    await page.waitForURL(stepUrl('claimed'));
    await page.getByRole('button', { name: 'Continue to Budget Buddy' }).click();
    await backAtAppWithTokens(page);
  });

  it('a claim link that does not work says so', async () => {
    const page = await pages.newPage();
    await page.goto(`${ferry.baseUrl}/account/claim?flow=${'a'.repeat(43)}&ticket=nope`);
    await page.getByRole('heading', { level: 1, name: 'This link does not work' }).waitFor();
    await checkStep(page, 'claim link invalid', 'accounts/11-claim-invalid');
  });
});

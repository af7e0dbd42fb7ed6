import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { FLOW_IDLE_TIMEOUT_MS } from '../../src/flow/session.js';
import { checkStep, focused, PhonePages, tabTo } from './browser-checks.js';
import { exchangeCode, launchBrowser, startFerry, type E2eFerry } from './harness.js';

/**
 * The hosted flow in a real browser (Debian's Chromium through playwright-core): every sandbox
 * login method to the app's redirect and a code the token endpoint accepts, by keyboard only,
 * cancel on every step, a wrong password, a bank that is down, an expired session, no JavaScript;
 * axe on every page and screenshots of every step at 390×844 and 1280×800 (test-artifacts/flow).
 */
describe('hosted flow in Chromium', { timeout: 300_000 }, () => {
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

  async function submitAndWait(page: Page, click: () => Promise<void>, step: string | RegExp) {
    await Promise.all([page.waitForURL(typeof step === 'string' ? stepUrl(step) : step), click()]);
  }

  /** The app got `code`, `consentId`, `state` and `iss`, and its server can exchange the code. */
  async function expectBackAtAppWithCode(page: Page) {
    await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get('state'), 'state-123');
    assert.equal(query.get('iss'), ferry.baseUrl);
    assert.ok(query.get('consentId'));
    const token = await exchangeCode(ferry, query.get('code')!);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(typeof token.body.access_token, 'string');
  }

  /**
   * Approves on the bank app's page and closes it once it says so, as the user goes back: closing
   * it while the form's post was still under way now and then never finished in Chromium (the
   * test then hung until the suite's timeout, its flow already at the accounts step).
   */
  async function approveOnPhone(phone: Page, pin: string) {
    await phone.locator('input[name="pin"]').fill(pin);
    await phone.getByRole('button', { name: 'Approve' }).click();
    await phone.getByRole('status').filter({ hasText: 'Login approved' }).waitFor();
    await phone.close();
  }

  async function acceptConsent(page: Page, check?: string) {
    await page.waitForURL(stepUrl('consent'));
    if (check !== undefined) await checkStep(page, 'consent', check);
    await submitAndWait(page, () => page.getByRole('button', { name: /Accept and continue|Acceptér og fortsæt/ }).click(), /\/(bank|login)(\?|$)/);
  }

  async function chooseBank(page: Page, name: RegExp, check?: string) {
    await page.waitForURL(stepUrl('bank'));
    if (check !== undefined) await checkStep(page, 'bank', check);
    await page.getByRole('button', { name }).click();
  }

  async function shareFirstAccountAndAccept(page: Page, check?: { accounts?: string; done: string }) {
    await page.waitForURL(stepUrl('accounts'));
    if (check?.accounts !== undefined) await checkStep(page, 'accounts', check.accounts);
    await page.locator('input[name="account"][type="checkbox"]').first().check();
    await submitAndWait(page, () => page.getByRole('button', { name: /Share selected accounts|Del valgte konti/ }).click(), 'done');
    if (check !== undefined) await checkStep(page, 'done', check.done);
    await page.getByRole('button', { name: /^(Accept|Acceptér)$/ }).click();
    await expectBackAtAppWithCode(page);
  }

  for (const culture of ['en', 'da'] as const) {
    it(`walks the one-time flow with a password bank in ${culture === 'en' ? 'English' : 'Danish'}, with axe and screenshots on every step`, async () => {
      const page = await pages.newPage({ locale: culture === 'da' ? 'da-DK' : 'en-GB' });
      await page.goto(ferry.connectUrl({ culture }));
      await acceptConsent(page, `${culture}/1-consent`);
      if (culture === 'da') {
        // Danish: the Danish banks come first, the country preselected.
        assert.equal(await page.locator('#bank-country').inputValue(), 'DK');
      }
      await page.locator('#bank-country').selectOption('');
      await page.locator('#bank-query').fill('password');
      await chooseBank(page, /Sandbox Password Bank/, `${culture}/2-bank`);
      await page.waitForURL(stepUrl('login'));
      await checkStep(page, 'login', `${culture}/3-login`);
      await page.locator('#field-username').fill('wrongpassword');
      await page.locator('#field-password').fill('first try');
      await submitAndWait(page, () => page.locator('#field-password').press('Enter'), 'login');
      await checkStep(page, 'login error', `${culture}/3-login-error`);
      await page.locator('#field-password').fill('second try');
      await submitAndWait(page, () => page.locator('#field-password').press('Enter'), 'accounts');
      await checkStep(page, 'accounts', `${culture}/4-accounts`);
      await page.getByRole('button', { name: /Share selected accounts|Del valgte konti/ }).click();
      await page.waitForURL(/error=none/);
      await checkStep(page, 'accounts error', `${culture}/4-accounts-error`);
      await shareFirstAccountAndAccept(page, { done: `${culture}/5-done` });
    });
  }

  it('walks the flow with a one-time code bank (PasswordAndOtp)', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await acceptConsent(page);
    await page.locator('#bank-query').fill('one-time');
    await chooseBank(page, /Sandbox One-Time Code Bank/);
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('ola');
    await page.locator('#field-password').fill('pw');
    await submitAndWait(page, () => page.getByRole('button', { name: 'Log in' }).click(), 'login');
    await checkStep(page, 'one-time code', 'en/3-login-otp');
    await page.locator('#field-otp').fill('123456');
    await submitAndWait(page, () => page.getByRole('button', { name: 'Continue' }).click(), 'accounts');
    await shareFirstAccountAndAccept(page);
  });

  it('walks the flow with an app-approval bank (Decoupled): the page polls and moves on once the phone approves', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await acceptConsent(page);
    await chooseBank(page, /Sandbox App Bank/);
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('kari');
    await submitAndWait(page, () => page.getByRole('button', { name: 'Continue' }).click(), 'login');
    await page.getByRole('heading', { name: 'Approve in your Sandbox App Bank app' }).waitFor();
    await checkStep(page, 'waiting for approval', 'en/3-login-app');
    // The "phone": the bank app's page, opened from the link.
    const [phone] = await Promise.all([pages.context.waitForEvent('page'), page.getByRole('link', { name: /Open the Sandbox App Bank app/ }).click()]);
    await phone.waitForLoadState();
    await approveOnPhone(phone, '1234');
    await page.waitForURL(stepUrl('accounts'), { timeout: 10_000 });
    await shareFirstAccountAndAccept(page);
  });

  it('walks the flow with a redirect bank: to the bank’s own page and back', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await acceptConsent(page);
    await chooseBank(page, /Sandbox Redirect Bank/);
    await page.waitForURL(/\/sandbox\/banks\/SandboxRedirectBank\/login\?/);
    await page.locator('input[name="username"]').fill('hans');
    await page.locator('input[name="password"]').fill('pw');
    await page.getByRole('button', { name: 'Log in' }).click();
    await shareFirstAccountAndAccept(page);
  });

  it('walks the whole flow by keyboard only, with the focus always visible', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await page.waitForURL(stepUrl('consent'));
    await tabTo(page, (el) => el.text === 'Accept and continue', 'Accept and continue');
    await Promise.all([page.waitForURL(stepUrl('bank')), page.keyboard.press('Enter')]);
    await tabTo(page, (el) => el.id === 'bank-query', 'the bank search');
    await page.keyboard.type('test data bank 2');
    await tabTo(page, (el) => el.text.includes('Test Data Bank 2'), 'Test Data Bank 2');
    await Promise.all([page.waitForURL(stepUrl('login')), page.keyboard.press('Enter')]);
    // The first field has the focus on arrival.
    assert.equal((await focused(page)).id, 'field-username');
    await page.keyboard.type('kim');
    await tabTo(page, (el) => el.id === 'field-password', 'the password');
    await page.keyboard.type('1234');
    await Promise.all([page.waitForURL(stepUrl('accounts')), page.keyboard.press('Enter')]);
    await tabTo(page, (el) => el.id === 'account-0', 'the first account');
    await page.keyboard.press('Space');
    assert.ok(await page.locator('#account-0').isChecked());
    await tabTo(page, (el) => el.text === 'Share selected accounts', 'Share selected accounts');
    await Promise.all([page.waitForURL(stepUrl('done')), page.keyboard.press('Enter')]);
    await tabTo(page, (el) => el.text === 'Accept', 'Accept');
    await page.keyboard.press('Enter');
    await expectBackAtAppWithCode(page);
  });

  it('cancels on every step back to the app with error=access_denied and the state', async () => {
    for (const step of ['consent', 'bank', 'login', 'accounts', 'done']) {
      const page = await pages.newPage();
      await page.goto(ferry.connectUrl());
      if (step !== 'consent') await acceptConsent(page);
      if (['login', 'accounts', 'done'].includes(step)) await chooseBank(page, /Test Data Bank 1/);
      if (['accounts', 'done'].includes(step)) {
        await page.waitForURL(stepUrl('login'));
        await page.locator('#field-username').fill('lee');
        await page.locator('#field-password').fill('1234');
        await submitAndWait(page, () => page.locator('#field-password').press('Enter'), 'accounts');
      }
      if (step === 'done') {
        await page.locator('#account-0').check();
        await submitAndWait(page, () => page.getByRole('button', { name: 'Share selected accounts' }).click(), 'done');
      }
      await page.waitForURL(stepUrl(step));
      await page.getByRole('button', { name: 'Cancel and go back to Budget Buddy' }).click();
      await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);
      const query = new URL(page.url()).searchParams;
      assert.equal(query.get('error'), 'access_denied', step);
      assert.equal(query.get('state'), 'state-123', step);
      assert.equal(query.get('code'), null, step);
      // Back from the app: the flow has ended and says so, with the way back to the app.
      await page.goBack();
      await page.getByRole('heading', { name: 'Cancelled' }).waitFor();
      if (step === 'consent') await checkStep(page, 'cancelled', 'en/6-cancelled');
      await pages.context.close();
    }
  });

  it('meets a bank that is down in the list, and one that fails at login, and goes on with another bank', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await acceptConsent(page);
    await page.locator('#bank-country').selectOption('DK');
    const closed = page.getByRole('button', { name: /Sandbox Closed Bank/ });
    assert.ok(await closed.isDisabled(), 'a bank that is down cannot be chosen');
    assert.match((await closed.textContent()) ?? '', /Unavailable right now/);
    await chooseBank(page, /Test Data Bank 4/);
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('unavailable');
    await page.locator('#field-password').fill('1234');
    await submitAndWait(page, () => page.locator('#field-password').press('Enter'), 'login');
    await page.getByRole('alert').waitFor();
    await checkStep(page, 'bank failure', 'en/3-login-failed');
    assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Go back to Budget Buddy' }).isVisible());
    await submitAndWait(page, () => page.getByRole('button', { name: 'Choose another bank' }).first().click(), 'bank');
    await chooseBank(page, /Test Data Bank 1/);
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('mia');
    await page.locator('#field-password').fill('1234');
    await submitAndWait(page, () => page.locator('#field-password').press('Enter'), 'accounts');
    await shareFirstAccountAndAccept(page);
  });

  it('meets an expired session: a page that says so and leads back to the app', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl());
    await page.waitForURL(stepUrl('consent'));
    ferry.clock.offset += FLOW_IDLE_TIMEOUT_MS + 60_000;
    try {
      await page.getByRole('button', { name: 'Accept and continue' }).click();
      await page.getByRole('heading', { name: 'This session has expired' }).waitFor();
      await checkStep(page, 'expired', 'en/7-expired');
      await page.getByRole('link', { name: 'Go back to Budget Buddy' }).click();
      await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);
      assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
    } finally {
      ferry.clock.offset = 0;
    }
  });

  it('works without JavaScript: the bank search form, and a waiting page that refreshes itself', async () => {
    const page = await pages.newPage({ javaScriptEnabled: false });
    await page.goto(ferry.connectUrl());
    await acceptConsent(page);
    await page.locator('#bank-query').fill('app');
    await page.locator('#bank-country').selectOption('');
    await submitAndWait(page, () => page.getByRole('button', { name: 'Search' }).click(), /\/bank\?q=app/);
    assert.ok(await page.getByRole('button', { name: /Sandbox App Bank/ }).isVisible());
    assert.ok(!(await page.getByRole('button', { name: /Test Data Bank 1/ }).isVisible()));
    await chooseBank(page, /Sandbox App Bank/);
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('nils');
    await submitAndWait(page, () => page.getByRole('button', { name: 'Continue' }).click(), 'login');
    // (No axe here: the page reloads itself every two seconds, which is its point without JavaScript.)
    const approveUrl = await page.getByRole('link', { name: /Open the Sandbox App Bank app/ }).getAttribute('href');
    const phone = await pages.context.newPage();
    await phone.goto(approveUrl!);
    await approveOnPhone(phone, '4321');
    // No script: the page's own refresh brings the user on.
    await page.waitForURL(stepUrl('accounts'), { timeout: 10_000 });
    await page.getByRole('button', { name: 'Select all' }).click();
    await page.waitForURL(/all=1/);
    assert.ok(await page.locator('#account-0').isChecked());
    await submitAndWait(page, () => page.getByRole('button', { name: 'Share selected accounts' }).click(), 'done');
    await page.getByRole('button', { name: /^Accept$/ }).click();
    await expectBackAtAppWithCode(page);
  });

  it('serves the terms of use and privacy policy without axe violations, with a way back to the flow', async () => {
    const page = await pages.newPage();
    await page.goto(ferry.connectUrl({ culture: 'da' }));
    await page.waitForURL(stepUrl('consent'));
    await page.getByRole('link', { name: 'vilkår for brug', exact: true }).click();
    await page.getByRole('heading', { name: 'Vilkår for brug' }).waitFor();
    await checkStep(page, 'terms', 'da/8-terms');
    await page.getByRole('link', { name: 'Tilbage' }).click();
    await page.waitForURL(stepUrl('consent'));
    await page.getByRole('link', { name: 'Privatlivspolitik', exact: true }).click();
    await page.getByRole('heading', { name: 'Privatlivspolitik' }).waitFor();
    await checkStep(page, 'privacy');
  });
});

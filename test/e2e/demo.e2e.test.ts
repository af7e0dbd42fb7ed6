import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkStep, PHONE, PhonePages } from './browser-checks.js';
import { launchBrowser, startFerry, type E2eFerry } from './harness.js';

/**
 * What `npm start` prints for a newcomer to try, in Chromium at phone size: the demo app (its page,
 * the one-time flow at a sandbox bank, the callback with the tokens, the shared data read back
 * through the API) and the API reference at /docs. Axe, reflow at 320 px and screenshots
 * (test-artifacts/flow/demo-*, docs-*) on each of these pages.
 */
describe('the demo app and the API reference in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let ferry: E2eFerry;
  const pages = new PhonePages(() => browser);

  before(async () => {
    browser = await launchBrowser();
    ferry = await startFerry({ demo: true });
    // As `npm start` does: the job runner syncs the shared accounts in the background.
    await ferry.services.startBackgroundWork();
  });
  after(async () => {
    await browser?.close();
    await ferry?.close();
  });
  afterEach(() => pages.finish());

  const stepUrl = (step: string) => new RegExp(`/flow/[A-Za-z0-9_-]{43}/${step}(\\?|$)`);

  it('connects once at a sandbox bank and shows the shared accounts and transactions, readable on a phone', async () => {
    const page = await pages.newPage();
    await page.goto(`${ferry.baseUrl}/demo`);
    await page.getByRole('heading', { name: 'Ferry demo app' }).waitFor();
    await checkStep(page, 'demo app', 'demo-start');

    await page.getByRole('button', { name: 'Connect once (one-time flow)' }).click();
    await page.waitForURL(stepUrl('consent'));
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await page.waitForURL(stepUrl('bank'));
    await page.getByRole('button', { name: /Test Data Bank 1/ }).click();
    await page.waitForURL(stepUrl('login'));
    await page.locator('#field-username').fill('demo-e2e');
    await page.locator('#field-password').fill('1234');
    await page.locator('#field-password').press('Enter');
    await page.waitForURL(stepUrl('accounts'));
    const shared = (await page.locator('label[for="account-0"] .account-name, label[for="account-0"] strong').first().innerText().catch(() => '')).trim();
    await page.locator('input[name="account"][type="checkbox"]').first().check();
    await page.getByRole('button', { name: /Share selected accounts/ }).click();
    await page.waitForURL(stepUrl('done'));
    await page.getByRole('button', { name: 'Accept', exact: true }).click();

    await page.waitForURL(/\/demo\/callback\?/);
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    assert.match(await page.locator('main').innerText(), /"scopes": "Accounts"/);
    await checkStep(page, 'demo callback', 'demo-callback');

    await page.getByRole('link', { name: 'Read the shared accounts' }).click();
    await page.waitForURL(/\/demo\/data$/);
    // The first sync runs in the background: reload as the page says, until the account has its transactions.
    const deadline = Date.now() + 30_000;
    while ((await page.locator('caption', { hasText: 'Newest transactions of' }).count()) === 0) {
      assert.ok(Date.now() < deadline, `the shared data page never showed transactions:\n${await page.locator('main').innerText()}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await page.getByRole('link', { name: 'Reload' }).click();
      await page.waitForURL(/\/demo\/data$/);
    }
    const accounts = page.locator('table').first();
    assert.equal(await accounts.locator('tbody tr').count(), 1, 'one account shared');
    if (shared !== '') assert.match(await accounts.innerText(), new RegExp(shared));
    const transactions = page.locator('table').nth(1).locator('tbody tr');
    assert.ok((await transactions.count()) > 0, 'the newest transactions are listed');
    // Each row: the text with its date under it, and the amount on one line (a phone used to wrap it after its sign).
    const first = await transactions.first().locator('td').allInnerTexts();
    assert.match(first[0]!, /\n\d{4}-\d{2}-\d{2}/);
    assert.match(first[1]!, /^-?DKK\s[\d,]+\.\d{2}$/);
    await checkStep(page, 'demo shared data', 'demo-data');
    for (const width of [320, PHONE.width]) {
      await page.setViewportSize({ width, height: PHONE.height });
      const lines = await transactions.evaluateAll((rows) =>
        rows.map((row) => {
          const range = document.createRange();
          range.selectNodeContents(row.lastElementChild!);
          return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
        }),
      );
      assert.ok(
        lines.every((n) => n === 1),
        `every amount on one line at ${width} px: ${lines.join(', ')}`,
      );
    }
  });

  it('shows the API reference at /docs without sideways scrolling on a phone', async () => {
    const page = await pages.newPage();
    await page.goto(`${ferry.baseUrl}/docs`);
    await page.getByRole('heading', { name: 'Ferry API', level: 1 }).waitFor();
    assert.ok((await page.locator('caption', { hasText: 'Parameters' }).count()) > 0, 'the operations list their parameters');
    await checkStep(page, 'API reference', 'docs');
  });
});

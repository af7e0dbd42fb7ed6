import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkStep, PhonePages } from './browser-checks.js';
import { launchBrowser, startFerry, type E2eFerry } from './harness.js';

/**
 * The developer portal in Chromium at phone size (390×844), as a newcomer uses it: sign up with
 * the code from the sandbox mailbox, register an app, add a wildcard redirect URL (and be refused a
 * wildcard host, with the reason), rotate the secret, connect a sandbox bank from the quick start
 * and trade the code at the token endpoint, send a test webhook to a local receiver and see the
 * delivery, revoke the consent. axe on every page, screenshots in test-artifacts/flow/portal.
 */
describe('developer portal in Chromium', { timeout: 300_000 }, () => {
  let browser: Browser;
  let ferry: E2eFerry;
  const pages = new PhonePages(() => browser);
  let receiver: { url: string; received: { headers: http.IncomingHttpHeaders; body: string }[]; close(): Promise<void> };

  before(async () => {
    browser = await launchBrowser();
    ferry = await startFerry({ env: { FERRY_WEBHOOK_ALLOW_PRIVATE: 'true' } });
    ferry.services.webhooks.start();
    receiver = await startReceiver();
  });
  after(async () => {
    await browser?.close();
    await ferry?.close();
    await receiver?.close();
  });
  afterEach(() => pages.finish());

  const shot = (page: Page, label: string, name: string) => checkStep(page, label, `portal/${name}`);

  async function click(page: Page, name: string | RegExp, role: 'button' | 'link' = 'button') {
    await Promise.all([page.waitForLoadState('load'), page.getByRole(role, { name }).first().click()]);
    await page.waitForLoadState('load');
  }

  /** Sign-up: the address, then the code read off the sandbox mailbox page, as a developer does. */
  async function signUp(page: Page, email: string, check: boolean) {
    if (check) {
      // From Ferry's home page, as a newcomer arrives.
      await page.goto(`${ferry.baseUrl}/`);
      await shot(page, 'home', '00-home');
      await click(page, 'Open the developer portal', 'link');
    } else await page.goto(`${ferry.baseUrl}/portal`);
    await page.waitForURL(/\/portal\/sign-in$/);
    if (check) await shot(page, 'sign-in', '01-sign-in');
    await page.getByLabel('Email address').fill(email);
    await click(page, 'Send me a code');
    await page.waitForURL(/\/portal\/sign-in\/code$/);
    if (check) await shot(page, 'code', '02-code');
    // The code page links the sandbox mailbox (no SMTP configured); read the code there, in another tab.
    const href = await page.getByRole('link', { name: 'open the sandbox mailbox' }).getAttribute('href');
    assert.equal(href, '/sandbox/mailbox');
    const mailbox = await pages.context.newPage();
    await mailbox.goto(`${ferry.baseUrl}${href}`);
    const body = await mailbox.locator('main').innerText();
    await mailbox.close();
    const code = new RegExp(`${email.replace(/[.@]/g, '\\$&')}[\\s\\S]*?\\b(\\d{6})\\b`).exec(body)?.[1] ?? /\b(\d{6})\b/.exec(body)?.[1];
    assert.ok(code, `the sandbox mailbox shows a code for ${email}`);
    await page.getByLabel('Code').fill(code);
    await click(page, 'Sign in');
    await page.waitForURL(/\/portal\/apps$/);
  }

  it('takes a newcomer from sign-up to a first sandbox connection and token, and through every page of their app', async () => {
    const page = await pages.newPage();
    const started = Date.now();
    await signUp(page, 'dev@budget.example', true);
    await shot(page, 'apps (empty)', '03-apps-empty');

    // Register an app, keeping the suggested test callback as its first redirect URL.
    await click(page, 'Register an app', 'link');
    await shot(page, 'new app', '04-new-app');
    await page.getByLabel('App name').fill('Budget Buddy Web');
    await click(page, 'Register the app');
    const secret = (await page.locator('#client-secret').innerText()).trim();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    await shot(page, 'overview with the secret', '05-overview-secret');
    const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    // Quick start: connect a sandbox bank, come back to the test callback, trade the code.
    await click(page, 'Quick start', 'link');
    await page.waitForURL(/\/quickstart$/);
    await shot(page, 'quick start', '06-quickstart');
    await click(page, 'Open the connect URL', 'link');
    await page.getByRole('button', { name: 'Accept and continue' }).click();
    await page.locator('#bank-query').fill('Test Data Bank 1');
    await page.getByRole('button', { name: /Test Data Bank 1/ }).click();
    await page.locator('#field-username').waitFor();
    await page.locator('#field-username').fill('lee');
    await page.locator('#field-password').fill('1234');
    await page.locator('#field-password').press('Enter');
    await page.locator('input[name="account"][type="checkbox"]').first().check();
    await page.getByRole('button', { name: 'Share selected accounts' }).click();
    await page.getByRole('button', { name: /^Accept$/ }).click();
    await page.waitForURL(/\/portal\/callback\?/);
    await shot(page, 'test callback', '07-callback');
    const curl = await page.locator('#token-call').innerText();
    assert.match(curl, new RegExp(`-u "${clientId}:\\$FERRY_CLIENT_SECRET"`));
    const code = (await page.locator('#received-code').innerText()).trim();
    const exchanged = await tokenCall(clientId, secret, { grant_type: 'authorization_code', code, redirect_uri: `${ferry.baseUrl}/portal/callback` });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    assert.equal(typeof exchanged.body.access_token, 'string');
    const newcomerSeconds = (Date.now() - started) / 1000;
    process.stdout.write(`# portal: sign-up → app → sandbox connection → token in ${newcomerSeconds.toFixed(1)} s of automated walking\n`);

    // Redirect URLs: a wildcard in the path is fine; in the host it is refused, saying why.
    await page.goto(`${ferry.baseUrl}/portal/apps/${clientId}/redirects`);
    await shot(page, 'redirect URLs', '08-redirects');
    await page.getByLabel('Redirect URL', { exact: true }).fill('https://budget.example.com/tenants/*');
    await click(page, 'Add');
    await page.getByText('Added. Connect requests may use it from now on.').waitFor();
    await page.getByLabel('Redirect URL', { exact: true }).fill('https://*.budget.example.com/callback');
    await click(page, 'Add');
    await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
    assert.match(await page.locator('.error-summary').innerText(), /A wildcard \(\*\) is not allowed in the subdomain\./);
    assert.match(await page.locator('#uri-error').innerText(), /would let addresses you do not control receive your users’ authorization codes/);
    await shot(page, 'wildcard host refused', '09-redirects-refused');
    await page.getByLabel('URL to try').fill('https://budget.example.com/tenants/42/callback');
    await click(page, 'Try it');
    assert.match(await page.locator('#try-result').innerText(), /Matches\.[\s\S]*Wildcard registration: https:\/\/budget\.example\.com\/tenants\/\*/);
    await shot(page, 'try it', '10-redirects-try');

    // Rotate the secret with an hour's grace: both work at the token endpoint.
    await click(page, 'Overview', 'link');
    await page.getByLabel('1 hour').check();
    await click(page, 'Rotate secret');
    const rotated = (await page.locator('#client-secret').innerText()).trim();
    assert.notEqual(rotated, secret);
    assert.match(await page.locator('.secret-box').innerText(), /The previous secret keeps working until/);
    await shot(page, 'rotated secret', '11-overview-rotated');
    for (const s of [secret, rotated]) {
      const answer = await tokenCall(clientId, s, { grant_type: 'refresh_token', refresh_token: 'not-a-token' });
      assert.equal(answer.body.error, 'invalid_grant', 'the client is authenticated, only the grant is wrong');
    }
    assert.equal((await tokenCall(clientId, 'wrong', { grant_type: 'refresh_token', refresh_token: 'x' })).status, 401);
    await page.reload();
    assert.equal(await page.locator('#client-secret').count(), 0, 'the secret is shown once');

    // Webhooks: a URL and a new secret, a test event to the local receiver, the delivery on the page.
    await click(page, 'Webhooks', 'link');
    await shot(page, 'webhooks (empty)', '12-webhooks-empty');
    await page.getByLabel('Webhook URL').fill(receiver.url);
    await click(page, 'Save webhook');
    const webhookSecret = (await page.locator('#webhook-secret').innerText()).trim();
    assert.match(webhookSecret, /^[A-Za-z0-9_-]{43}$/);
    await click(page, 'Send a test event');
    await page.getByText('Test event queued').waitFor();
    await waitFor(() => receiver.received.some((r) => r.headers['x-aiia-event'] === 'WebhookTest'), 'the receiver gets the test event');
    const test = receiver.received.find((r) => r.headers['x-aiia-event'] === 'WebhookTest')!;
    assert.ok(JSON.parse(test.body).webhookTestWebhook);
    assert.ok(test.headers['x-aiia-signature'], 'signed with the new secret');
    for (let i = 0; i < 20 && !/WebhookTest[\s\S]*Delivered/.test(await page.locator('main').innerText()); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await click(page, 'Refresh', 'link');
    }
    assert.match(await page.locator('table.records').innerText(), /WebhookTest[\s\S]*Delivered[\s\S]*1 of \d+[\s\S]*HTTP 200/);
    await shot(page, 'webhook delivered', '13-webhooks-delivered');

    // Consents: the one made above, revoked; its receipt shown.
    await click(page, 'Consents', 'link');
    await shot(page, 'consents', '14-consents');
    await click(page, 'Revoke and erase');
    await page.getByText('Consent revoked').waitFor();
    assert.match(await page.locator('main').innerText(), /Deletion receipts[\s\S]*Revoked/);
    await shot(page, 'consent revoked', '15-consents-revoked');
    await waitFor(() => receiver.received.some((r) => r.headers['x-aiia-event'] === 'DataDeleted'), 'the app hears DataDeleted');

    // Name and branding, shown in the hosted flow.
    await click(page, 'Name and branding', 'link');
    await page.getByLabel('Brand colour (optional)').fill('#7c3aed');
    await click(page, 'Save');
    await page.getByText('Saved.').waitFor();
    await shot(page, 'settings', '16-settings');

    await click(page, 'Sign out');
    await page.waitForURL(/\/portal\/sign-in\?done=signed-out$/);
  });

  it('works without JavaScript: sign in, register an app, be refused a wildcard host', async () => {
    const page = await pages.newPage({ javaScriptEnabled: false });
    await signUp(page, 'nojs@budget.example', false);
    await click(page, 'Register an app', 'link');
    await page.getByLabel('App name').fill('No Script');
    await page.getByLabel('First redirect URL').fill('https://*.noscript.example/cb');
    await click(page, 'Register the app');
    assert.match(await page.locator('.error-summary').innerText(), /A wildcard \(\*\) is not allowed in the subdomain/);
    await page.getByLabel('First redirect URL').fill('https://noscript.example/cb');
    await click(page, 'Register the app');
    assert.match(await page.locator('#client-secret').innerText(), /^[A-Za-z0-9_-]{43}$/);
  });

  async function tokenCall(clientId: string, secret: string, body: Record<string, string>) {
    const response = await fetch(`${ferry.baseUrl}/v1/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`, 'latin1').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
});

async function waitFor(condition: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out: ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The app's webhook receiver: a node:http server on loopback that answers 200 and keeps what it got. */
async function startReceiver() {
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ferry-webhooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

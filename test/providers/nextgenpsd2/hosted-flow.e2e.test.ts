import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../../src/apps/apps.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { createProviderRegistry } from '../../../src/providers/registry.js';
import { buildServer, type Services } from '../../../src/server.js';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { freePort } from '../../helpers/listen.js';
import { expectNoAxeViolations, PHONE, watchConsole } from '../../e2e/browser-checks.js';
import { launchBrowser, OffsetClock } from '../../e2e/harness.js';

/**
 * The hosted flow in Chromium through the simulated NextGenPSD2 bank's redirect approach, with
 * Ferry serving the bank itself (`/sandbox/xs2a`) and the connector calling it over HTTP as it calls
 * a real bank: consent, choose the bank, the bank's own login page, back on `TPP-Redirect-URI`,
 * accounts, done; then the app exchanges its code, the sync reads two years of transactions
 * without the user, and the data API serves them.
 */
describe('hosted flow in Chromium through the NextGenPSD2 sandbox bank (redirect)', { timeout: 90_000 }, () => {
  let browser: Browser;
  let testDb: TestDatabase;
  let app: FastifyInstance;
  let services: Services;
  let baseUrl: string;
  let callback: { url: string; received: URLSearchParams[]; server: http.Server };
  let client: { id: string; secret: string };

  before(async () => {
    browser = await launchBrowser();
    testDb = await createTestDatabase('sqlite');
    const received: URLSearchParams[] = [];
    const server = http.createServer((request, response) => {
      received.push(new URL(request.url ?? '/', 'http://localhost').searchParams);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html lang="en"><head><title>Budget Buddy</title></head><body><main><h1>Back in Budget Buddy</h1></main></body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    callback = { url: `http://localhost:${(server.address() as AddressInfo).port}/callback`, received, server };
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const config: Config = { ...loadConfig({ PUBLIC_URL: baseUrl, PORT: String(port), LOG_LEVEL: 'silent', FERRY_DEMO: 'false', FERRY_RATE_LIMITS: 'false' }), database: testDb.config };
    assert.equal(config.xs2a.sandboxUrl, `http://127.0.0.1:${port}/sandbox/xs2a`);
    const clock = new OffsetClock();
    const providers = createProviderRegistry({ db: testDb.database.db, sandbox: true, publicUrl: baseUrl, slowStepMs: 0, xs2aSandboxUrl: config.xs2a.sandboxUrl });
    ({ app, services } = await buildServer({ config, database: testDb.database, clock, providers }));
    await app.listen({ port, host: '127.0.0.1' });
    const created = await createApp(testDb.database.db, clock, { name: 'Budget Buddy', redirectUris: [callback.url], brandColor: '#0f766e' });
    client = { id: created.app.id, secret: created.clientSecret };
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((resolve) => callback?.server.close(resolve));
    await testDb?.drop();
  });

  const stepUrl = (step: string) => new RegExp(`/flow/[A-Za-z0-9_-]{43}/${step}(\\?|$)`);

  it('consents, logs in at the bank, comes back with a code; the sync then reads the bank without the user', async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: 'en-GB' });
    const page: Page = await context.newPage();
    const problems = watchConsole(page);
    const connect = new URL(`${baseUrl}/v1/oauth/connect`);
    for (const [name, value] of Object.entries({ client_id: client.id, redirect_uri: callback.url, response_type: 'code', scope: 'accounts offline_access', state: 'state-xs2a' })) connect.searchParams.set(name, value);
    await page.goto(connect.toString());

    await page.waitForURL(stepUrl('consent'));
    await page.getByRole('button', { name: /^Accept and continue$/ }).click();
    // The regular flow: a Ferry account first, with the code from the sandbox mailbox.
    await page.waitForURL(stepUrl('signin'));
    await page.getByLabel('Email address').fill('hanna@example.org');
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const mail = await testDb.database.db.selectFrom('sandbox_mail').select('text_body').where('to_address', '=', 'hanna@example.org').executeTakeFirstOrThrow();
    await page.getByLabel('Code from the email').fill(/\b(\d{6})\b/.exec(mail.text_body)![1]!);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await page.waitForURL(stepUrl('bank'));
    // The simulated bank is in the bank list, with its logo.
    const bank = page.getByRole('button', { name: /Sandbox NextGenPSD2 Bank \(redirect\)/ });
    const logo = await bank.locator('img').getAttribute('src');
    assert.equal(logo, '/assets/banks/sandboxxs2abank.svg');
    assert.equal((await fetch(`${baseUrl}${logo}`)).headers.get('content-type'), 'image/svg+xml');
    await bank.click();

    // The bank's own page, reached through the consent's scaRedirect link.
    await page.waitForURL(/\/sandbox\/xs2a\/sca\/[A-Za-z0-9_-]+$/);
    await expectNoAxeViolations(page, 'the NextGenPSD2 bank’s login page');
    await page.locator('input[name="username"]').fill('hanna');
    await page.locator('input[name="password"]').fill('pw');
    await page.getByRole('button', { name: 'Log in' }).click();

    await page.waitForURL(stepUrl('accounts'));
    const accounts = page.locator('input[name="account"][type="checkbox"]');
    assert.ok((await accounts.count()) >= 2, 'the current and the savings account');
    await accounts.first().check();
    await page.getByRole('button', { name: /Share selected accounts/ }).click();
    await page.waitForURL(stepUrl('done'));
    await page.getByRole('button', { name: /^Accept$/ }).click();
    await page.waitForURL(/^http:\/\/localhost:\d+\/callback\?/);
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get('state'), 'state-xs2a');
    assert.deepEqual(problems, [], 'no CSP violation and no script error');
    await context.close();

    const token = await fetch(`${baseUrl}/v1/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', code: query.get('code'), redirect_uri: callback.url }),
    });
    assert.equal(token.status, 200);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };

    // The first sync: a background job, reading the bank without the user (no PSU-IP-Address).
    assert.ok((await services.jobs.runDue()) >= 1);
    const bearer = { authorization: `Bearer ${accessToken}` };
    const list = (await (await fetch(`${baseUrl}/v1/accounts`, { headers: bearer })).json()) as { accounts: { id: string; number: { iban: string | null }; accountProvider: { id: string } }[] };
    assert.equal(list.accounts.length, 1);
    const [account] = list.accounts;
    assert.match(account!.number.iban ?? '', /^DE\d{20}$/);
    assert.equal(account!.accountProvider.id, 'SandboxXs2aRedirectBank');
    const page1 = (await (await fetch(`${baseUrl}/v1/accounts/${account!.id}/transactions?pageSize=50`, { headers: bearer })).json()) as { transactions: { state: string; originalText: string }[]; pagingToken: string | null };
    assert.equal(page1.transactions.length, 50);
    assert.ok(page1.pagingToken !== null, 'two years of history, paged');
    const reads = await testDb.database.db.selectFrom('xs2a_unattended_reads').select(['resource']).execute();
    assert.ok(reads.some((r) => r.resource.startsWith('transactions:')), 'the sync’s read was counted against frequencyPerDay');
  });
});

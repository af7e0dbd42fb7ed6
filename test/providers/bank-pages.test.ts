import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LoginStep } from '../../src/providers/types.js';
import { DIALECTS } from '../helpers/database.js';
import { handleOf, sandboxFixture, type SandboxFixture } from './sandbox-fixture.js';

type RedirectStep = Extract<LoginStep, { kind: 'redirect' }>;
type PollStep = Extract<LoginStep, { kind: 'poll' }>;

const dialect = DIALECTS[0] ?? 'sqlite';
const form = (fields: Record<string, string>) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });

/** What every sandbox bank page must be: strict-CSP clean, accessible, phone-friendly. */
function checkPage(html: string, lang: string) {
  assert.match(html, /^<!doctype html>/);
  assert.match(html, new RegExp(`<html lang="${lang}">`));
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1"\/?>/);
  assert.match(html, /<link rel="stylesheet" href="\/sandbox\/assets\/bank\.css"\/?>/);
  assert.doesNotMatch(html, /<script|<style|\sstyle=|\son[a-z]+=/i, 'no inline script or style');
  // Every visible input has a label pointing at it.
  for (const [, id] of html.matchAll(/<input(?![^>]*type="hidden")[^>]*\bid="([^"]+)"/g)) {
    assert.match(html, new RegExp(`<label for="${id}">`), `input ${id} is labelled`);
  }
  assert.equal((html.match(/<h1>/g) ?? []).length, 1, 'one heading');
}

describe('the sandbox banks’ own pages', () => {
  let fixture: SandboxFixture;
  before(async () => {
    fixture = await sandboxFixture(dialect);
  });
  after(async () => {
    await fixture.close();
  });

  test('the stylesheet is served, with each bank’s colour', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/sandbox/assets/bank.css' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/css; charset=utf-8');
    assert.match(response.body, /\.bank--sandboxredirectbank \{ --bank: #6d28d9; \}/);
    assert.match(response.body, /\.bank--testdatabank1 \{ --bank: #1f4e8c; \}/);
  });

  test('the redirect bank’s login page, in the user’s language, with a strict policy', async () => {
    const provider = fixture.registry.get('SandboxRedirectBank')!;
    const step = (await provider.startLogin(fixture.ctx('de'))) as RedirectStep;
    const response = await fixture.app.inject({ method: 'GET', url: `/sandbox/banks/SandboxRedirectBank/login?request=${handleOf(step)}` });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'; style-src 'self'/);
    checkPage(response.body, 'de');
    assert.match(response.body, /<h1>Bei Sandbox Redirect Bank anmelden<\/h1>/);
    assert.match(response.body, /<label for="username">Benutzerkennung<\/label>/);
    assert.match(response.body, /class="bank bank--sandboxredirectbank"/);
    assert.match(response.body, /Sandbox-Bank zum Testen/);
  });

  test('a wrong password is shown on the bank page, linked to the fields', async () => {
    const provider = fixture.registry.get('SandboxRedirectBank')!;
    const step = (await provider.startLogin(fixture.ctx('en'))) as RedirectStep;
    const response = await fixture.app.inject({
      method: 'POST',
      url: '/sandbox/banks/SandboxRedirectBank/login',
      ...form({ request: handleOf(step), username: 'wrongpassword', password: 'pw', action: 'login' }),
    });
    assert.equal(response.statusCode, 400);
    checkPage(response.body, 'en');
    assert.match(response.body, /<p class="bank-error" role="alert" id="form-error">Wrong user ID or password\. Please try again\.<\/p>/);
    assert.match(response.body, /aria-describedby="form-error"/);
    const empty = await fixture.app.inject({ method: 'POST', url: '/sandbox/banks/SandboxRedirectBank/login', ...form({ request: handleOf(step), username: '', password: '' }) });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Enter your user ID\./);
  });

  test('the app page (the phone): approve with a PIN, then post → 303 → get shows the outcome', async () => {
    const provider = fixture.registry.get('SandboxAppBank')!;
    const ctx = fixture.ctx('nb');
    const start = await provider.startLogin(ctx);
    const step = (await provider.continueLogin(start.kind === 'form' ? start.state : {}, { kind: 'form', fields: { username: 'kari' } }, ctx)) as PollStep;
    assert.equal(step.kind, 'poll');
    assert.equal(step.message, 'Åpne Sandbox App Bank-appen på telefonen din og godkjenn innloggingen.');
    const url = new URL(step.approveUrl!).pathname;
    const page = await fixture.app.inject({ method: 'GET', url });
    assert.equal(page.statusCode, 200);
    checkPage(page.body, 'nb-NO');
    assert.match(page.body, /Vil du godkjenne innloggingen for kari\?/);
    assert.match(page.body, /inputmode="numeric"/);

    const badPin = await fixture.app.inject({ method: 'POST', url, ...form({ action: 'approve', pin: '12' }) });
    assert.equal(badPin.statusCode, 400);
    assert.match(badPin.body, /Skriv inn 4 til 8 sifre\./);

    const approved = await fixture.app.inject({ method: 'POST', url, ...form({ action: 'approve', pin: '1234' }) });
    assert.equal(approved.statusCode, 303);
    assert.equal(approved.headers.location, url);
    const outcome = await fixture.app.inject({ method: 'GET', url });
    assert.match(outcome.body, /Innloggingen er godkjent\./);
    assert.doesNotMatch(outcome.body, /name="pin"/);
    const twice = await fixture.app.inject({ method: 'POST', url, ...form({ action: 'reject' }) });
    assert.equal(twice.statusCode, 303);
    assert.match((await fixture.app.inject({ method: 'GET', url })).body, /Innloggingen er godkjent\./, 'a decided request stays decided');
    assert.equal((await provider.continueLogin(step.state, { kind: 'poll' }, ctx)).kind, 'done');
  });

  test('unknown handles, banks and bodies', async () => {
    const gone = await fixture.app.inject({ method: 'GET', url: '/sandbox/banks/SandboxAppBank/app/nope', headers: { 'accept-language': 'sv-SE,sv;q=0.9' } });
    assert.equal(gone.statusCode, 404);
    checkPage(gone.body, 'sv');
    assert.match(gone.body, /Den här inloggningsbegäran har gått ut eller redan använts\./);
    assert.equal((await fixture.app.inject({ method: 'GET', url: '/sandbox/banks/NoSuchBank/app/nope' })).statusCode, 404);
    assert.equal((await fixture.app.inject({ method: 'GET', url: '/sandbox/banks/SandboxRedirectBank/login' })).statusCode, 404);
    // A decoupled handle is not a redirect login, and the other way round.
    const app = fixture.registry.get('SandboxAppBank')!;
    const start = await app.startLogin(fixture.ctx());
    const poll = (await app.continueLogin(start.kind === 'form' ? start.state : {}, { kind: 'form', fields: { username: 'x' } }, fixture.ctx())) as PollStep;
    const handle = new URL(poll.approveUrl!).pathname.split('/').pop()!;
    assert.equal((await fixture.app.inject({ method: 'GET', url: `/sandbox/banks/SandboxAppBank/login?request=${handle}` })).statusCode, 404);
    assert.equal((await fixture.app.inject({ method: 'GET', url: `/sandbox/banks/SandboxRedirectBank/app/${handle}` })).statusCode, 404);
    const badBody = await fixture.app.inject({ method: 'POST', url: `/sandbox/banks/SandboxAppBank/app/${handle}`, ...form({ action: 'launch' }) });
    assert.equal(badBody.statusCode, 400);
  });
});

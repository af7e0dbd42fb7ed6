import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { ManualClock } from '../../src/clock.js';
import { installErrorHandling } from '../../src/http/error-handler.js';
import { createProviderRegistry, type ProviderRegistry } from '../../src/providers/registry.js';
import { providerRoutes } from '../../src/providers/routes.js';
import { sandboxBankRoutes } from '../../src/providers/sandbox/routes.js';
import type { BankProvider, Culture, LoginContext, LoginStep } from '../../src/providers/types.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../helpers/database.js';
import type { ConformanceDriver, FormStep, PollStep, RedirectStep } from './conformance.js';

export const PUBLIC_URL = 'http://ferry.test';
export const RETURN_URL = `${PUBLIC_URL}/flow/bank/callback`;
/** A password every sandbox bank takes (digits, for Aiia's test banks), distinctive enough to find. */
export const SANDBOX_PASSWORD = '73519286';
export const APP_PIN = '2468';

export interface SandboxFixture {
  test: TestDatabase;
  registry: ProviderRegistry;
  app: FastifyInstance;
  clock: ManualClock;
  ctx(culture?: Culture): LoginContext;
  close(): Promise<void>;
}

/** A fresh database, a registry with the sandbox banks, and a bare Fastify app serving their pages. */
export async function sandboxFixture(dialect: Dialect, options: { slowStepMs?: number; sandbox?: boolean; providers?: BankProvider[] } = {}): Promise<SandboxFixture> {
  const test = await createTestDatabase(dialect);
  const clock = new ManualClock();
  const registry = createProviderRegistry({
    db: test.database.db,
    sandbox: options.sandbox ?? true,
    publicUrl: PUBLIC_URL,
    slowStepMs: options.slowStepMs ?? 0,
    providers: options.providers,
  });
  const app = Fastify();
  // Ferry's one error handler, as in production: a NotFound is a 404, a browser gets a page.
  installErrorHandling(app);
  await app.register(providerRoutes, { registry });
  await app.register(sandboxBankRoutes, { registry, clock });
  await app.ready();
  return {
    test,
    registry,
    app,
    clock,
    ctx: (culture = 'en') => ({ culture, publicUrl: PUBLIC_URL, returnUrl: RETURN_URL, now: () => clock.now() }),
    async close() {
      await app.close();
      await test.drop();
    },
  };
}

const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

/** The request handle of the redirect bank's login page. */
export function handleOf(step: RedirectStep): string {
  return new URL(step.url).searchParams.get('request') ?? '';
}

/** Logs in at the redirect bank's own page through HTTP; returns the page's answer. */
export async function postBankLogin(app: FastifyInstance, step: RedirectStep, form: { username: string; password?: string; action?: 'login' | 'cancel' }) {
  const page = await app.inject({ method: 'GET', url: pathOf(step.url) });
  assert.equal(page.statusCode, 200, `the bank's login page answers (${page.statusCode})`);
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(action, 'the login page has a form');
  return app.inject({
    method: 'POST',
    url: action,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ request: handleOf(step), username: form.username, password: form.password ?? SANDBOX_PASSWORD, action: form.action ?? 'login' }).toString(),
  });
}

/** Approves (or rejects) on the decoupled bank's "phone" page through HTTP; returns the answer. */
export async function postAppDecision(app: FastifyInstance, step: PollStep, action: 'approve' | 'reject', pin = APP_PIN) {
  assert.ok(step.approveUrl, 'the poll step links to the app');
  const page = await app.inject({ method: 'GET', url: pathOf(step.approveUrl) });
  assert.equal(page.statusCode, 200, `the app page answers (${page.statusCode})`);
  return app.inject({
    method: 'POST',
    url: pathOf(step.approveUrl),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ action, pin }).toString(),
  });
}

/** The query the bank sent the browser back with. */
export function callbackQuery(location: string | undefined): Record<string, string> {
  assert.ok(location, 'the bank redirects back');
  assert.ok(location.startsWith(RETURN_URL), `back to the flow's return URL (${location})`);
  return Object.fromEntries(new URL(location).searchParams);
}

/** Plays a sandbox user through every login method, over the bank's own pages. */
export function sandboxDriver(app: FastifyInstance): ConformanceDriver {
  return {
    fill(step: FormStep, user: string) {
      return Object.fromEntries(
        step.fields.map((field) => [
          field.name,
          // The one-time-code bank's page says which code works: read it from the hint.
          field.type === 'password' ? SANDBOX_PASSWORD : field.type === 'otp' ? (/\d{4,8}/.exec(field.hint ?? '')?.[0] ?? '') : user,
        ]),
      );
    },
    async followRedirect(step: RedirectStep, user: string) {
      const answer = await postBankLogin(app, step, { username: user });
      assert.equal(answer.statusCode, 303, `the bank sends the user back (${answer.statusCode})`);
      return callbackQuery(answer.headers.location as string | undefined);
    },
    async approve(step: PollStep) {
      const answer = await postAppDecision(app, step, 'approve');
      assert.equal(answer.statusCode, 303, `the app approves (${answer.statusCode})`);
    },
  };
}

export interface LoginRun {
  final: LoginStep;
  /** What happened, in order: `form`, `form:error`, `redirect`, `bank:error`, `poll`, `app:error`, `done`, `failed:<reason>`. */
  events: string[];
}

/**
 * Logs `username` in at a sandbox bank the way a user would, retrying once where the bank says a
 * password or PIN was wrong, and records what the user saw.
 */
export async function loginAs(fixture: SandboxFixture, provider: BankProvider, username: string, options: { app?: 'approve' | 'reject' | 'ignore'; culture?: Culture } = {}): Promise<LoginRun> {
  const ctx = fixture.ctx(options.culture);
  const driver = sandboxDriver(fixture.app);
  const events: string[] = [];
  let step = await provider.startLogin(ctx);
  for (let i = 0; i < 12; i++) {
    switch (step.kind) {
      case 'done':
        events.push('done');
        return { final: step, events };
      case 'failed':
        events.push(`failed:${step.reason}`);
        return { final: step, events };
      case 'form':
        events.push(step.error === undefined ? 'form' : `form:${step.error.reason ?? 'error'}`);
        step = await provider.continueLogin(JSON.parse(JSON.stringify(step.state)), { kind: 'form', fields: await driver.fill(step, username) }, ctx);
        break;
      case 'redirect': {
        events.push('redirect');
        let answer = await postBankLogin(fixture.app, step, { username });
        if (answer.statusCode === 400) {
          events.push('bank:error');
          answer = await postBankLogin(fixture.app, step, { username });
        }
        assert.equal(answer.statusCode, 303);
        step = await provider.continueLogin(JSON.parse(JSON.stringify(step.state)), { kind: 'callback', query: callbackQuery(answer.headers.location as string) }, ctx);
        break;
      }
      case 'poll': {
        events.push('poll');
        const decision = options.app ?? 'approve';
        const page = await fixture.app.inject({ method: 'GET', url: pathOf(step.approveUrl!) });
        if (decision !== 'ignore' && page.statusCode === 200 && page.body.includes('name="pin"')) {
          let answer = await postAppDecision(fixture.app, step, decision);
          if (answer.statusCode === 400) {
            events.push('app:error');
            answer = await postAppDecision(fixture.app, step, decision);
          }
          assert.equal(answer.statusCode, 303);
        }
        step = await provider.continueLogin(JSON.parse(JSON.stringify(step.state)), { kind: 'poll' }, ctx);
        if (step.kind === 'poll' && decision === 'ignore') return { final: step, events: [...events, 'poll'] };
        break;
      }
    }
  }
  throw new Error(`login of ${username} did not end`);
}

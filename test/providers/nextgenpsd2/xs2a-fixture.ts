import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { ManualClock } from '../../../src/clock.js';
import { parseXs2aBanks, type Xs2aBank } from '../../../src/providers/nextgenpsd2/bank-config.js';
import { NextGenPsd2Provider } from '../../../src/providers/nextgenpsd2/nextgenpsd2-provider.js';
import type { Xs2aExchange } from '../../../src/providers/nextgenpsd2/xs2a-client.js';
import { startXs2aSandboxBank, type StandaloneXs2aBank } from '../../../src/providers/sandbox/xs2a/standalone.js';
import type { Xs2aFault, Xs2aSandboxExchange, Xs2aSandboxRoutesOptions } from '../../../src/providers/sandbox/xs2a/xs2a-sandbox-routes.js';
import type { Culture, LoginContext, LoginStep } from '../../../src/providers/types.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../../helpers/database.js';
import { createTestCertificates, type TestCertificates } from './certificates.js';
import type { ConformanceDriver, FormStep, PollStep, RedirectStep } from '../conformance.js';

export const PUBLIC_URL = 'https://ferry.test';
export const RETURN_URL = `${PUBLIC_URL}/flow/abc/callback`;
export const PASSWORD = 'secret-73519286';
export const APP_PIN = '2468';
export const APPROACHES = ['REDIRECT', 'DECOUPLED', 'EMBEDDED'] as const;
export type Approach = (typeof APPROACHES)[number];

/**
 * The simulated NextGenPSD2 bank on its own port over mutual TLS, demanding sealed requests, and
 * three connector instances configured to it as an operator configures a real bank (a banks file
 * naming the QWAC, the QSealC and the bank's CA). Every exchange is recorded from both sides.
 */
export interface Xs2aFixture {
  test: TestDatabase;
  certs: TestCertificates;
  clock: ManualClock;
  bank: StandaloneXs2aBank;
  banks: Record<Approach, Xs2aBank>;
  provider(approach: Approach, overrides?: Partial<Xs2aBank>): NextGenPsd2Provider;
  /** What the connector sent and received, as it checked it. */
  sent: Xs2aExchange[];
  /** What the bank received and answered, as it checked it. */
  received: Xs2aSandboxExchange[];
  /** Set to answer calls with a fault. */
  fault: ((call: Parameters<NonNullable<Xs2aSandboxRoutesOptions['fault']>>[0]) => Xs2aFault | null | undefined) | null;
  ctx(culture?: Culture, extra?: Partial<LoginContext>): LoginContext;
  close(): Promise<void>;
}

export async function xs2aFixture(dialect: Dialect, options: Partial<Xs2aSandboxRoutesOptions> = {}): Promise<Xs2aFixture> {
  const test = await createTestDatabase(dialect);
  const certs = createTestCertificates();
  const clock = new ManualClock();
  const sent: Xs2aExchange[] = [];
  const received: Xs2aSandboxExchange[] = [];
  const fixture = { fault: null } as Xs2aFixture;
  const bank = await startXs2aSandboxBank({
    db: test.database.db,
    clock,
    tls: { cert: certs.read(certs.server.certificate), key: certs.read(certs.server.key), clientCa: certs.read(certs.ca) },
    requireClientCertificate: true,
    requireSignature: true,
    trustedIssuers: [new X509Certificate(certs.read(certs.ca))],
    pageSize: 100,
    onExchange: (exchange) => received.push(exchange),
    fault: (call) => fixture.fault?.(call),
    ...options,
  });
  const file = path.join(certs.dir, 'banks.json');
  fs.writeFileSync(file, JSON.stringify(banksFile(bank.url)));
  const parsed = parseXs2aBanks(JSON.parse(fs.readFileSync(file, 'utf8')), { source: file, directory: certs.dir });
  // The simulated bank's "phone" link is shown to sandbox users only.
  const banks = Object.fromEntries(APPROACHES.map((a, i) => [a, { ...parsed[i]!, sandbox: true }])) as Record<Approach, Xs2aBank>;
  Object.assign(fixture, {
    test,
    certs,
    clock,
    bank,
    banks,
    sent,
    received,
    provider: (approach: Approach, overrides: Partial<Xs2aBank> = {}) => new NextGenPsd2Provider({ ...banks[approach], ...overrides }, { db: test.database.db, onExchange: (e) => sent.push(e) }),
    ctx: (culture: Culture = 'en', extra: Partial<LoginContext> = {}) => ({ culture, publicUrl: PUBLIC_URL, returnUrl: RETURN_URL, now: () => clock.now(), ...extra }),
    async close() {
      await bank.close();
      await test.drop();
      certs.remove();
    },
  } satisfies Omit<Xs2aFixture, 'fault'>);
  return fixture;
}

/** The banks file an operator would write for this bank: one entry per approach. */
export function banksFile(baseUrl: string) {
  const entry = (id: string, approach: Approach) => ({
    id,
    name: `Test XS2A Bank (${approach.toLowerCase()})`,
    country: 'DE',
    currency: 'EUR',
    baseUrl,
    approaches: [approach],
    consent: approach === 'EMBEDDED' ? 'allPsd2' : 'bankOffered',
    features: { withBalance: approach === 'DECOUPLED', bookingStatusBoth: true },
    certificates: { mtls: true, signature: true, serverCa: 'ca.pem' },
  });
  return {
    tpp: { ipAddress: '192.0.2.10', qwac: { certificate: 'qwac.pem', key: 'qwac.key' }, qseal: { certificate: 'qseal.pem', key: 'qseal.key' } },
    banks: [entry('TestXs2aRedirect', 'REDIRECT'), entry('TestXs2aDecoupled', 'DECOUPLED'), entry('TestXs2aEmbedded', 'EMBEDDED')],
  };
}

/** A browser talking to the bank's pages (trusting the test CA, with no client certificate). */
export async function browse(ca: string, url: string, form?: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string }> {
  const body = form === undefined ? undefined : new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: body === undefined ? 'GET' : 'POST', ca, headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, location: response.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export function formAction(base: string, page: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  assert.ok(action, 'the page has a form');
  return new URL(action.replace(/&amp;/g, '&'), base).toString();
}

/** Logs in at the bank's redirect page; returns the bank's answer (303 back to the flow, or the page again). */
export async function bankLogin(fixture: Xs2aFixture, step: RedirectStep, username: string, action: 'login' | 'cancel' = 'login') {
  const page = await browse(fixture.certs.read(fixture.certs.ca), step.url);
  assert.equal(page.status, 200, `the bank's login page answers (${page.status})`);
  const token = /name="request" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return browse(fixture.certs.read(fixture.certs.ca), formAction(step.url, page.body), { request: token, username, password: PASSWORD, action });
}

/** Approves (or rejects) on the bank's "phone". */
export async function appDecision(fixture: Xs2aFixture, step: PollStep, action: 'approve' | 'reject', pin = APP_PIN) {
  assert.ok(step.approveUrl, 'the poll step links the sandbox phone');
  const page = await browse(fixture.certs.read(fixture.certs.ca), step.approveUrl);
  assert.equal(page.status, 200, `the app page answers (${page.status})`);
  return browse(fixture.certs.read(fixture.certs.ca), formAction(step.approveUrl, page.body), { action, pin });
}

export function callbackQuery(location: string | undefined): Record<string, string> {
  assert.ok(location !== undefined && location.startsWith(RETURN_URL), `back to the flow's return URL (${location})`);
  return Object.fromEntries(new URL(location).searchParams);
}

/** Plays a user of the simulated bank through each approach, over its own pages. */
export function xs2aDriver(fixture: Xs2aFixture): ConformanceDriver {
  return {
    fill(step: FormStep, user: string) {
      return Object.fromEntries(
        step.fields.map((field) => [
          field.name,
          field.name === 'psuId' ? user : field.type === 'password' ? PASSWORD : field.type === 'otp' ? (/\d{4,8}/.exec(field.hint ?? '')?.[0] ?? '') : field.name === 'scaMethod' ? '1' : user,
        ]),
      );
    },
    async followRedirect(step: RedirectStep, user: string) {
      const answer = await bankLogin(fixture, step, user);
      assert.equal(answer.status, 303, `the bank sends the user back (${answer.status})`);
      return callbackQuery(answer.location);
    },
    async approve(step: PollStep) {
      const answer = await appDecision(fixture, step, 'approve');
      assert.equal(answer.status, 303, `the app approves (${answer.status})`);
    },
  };
}

/** Runs a login with the driver, recording what the user saw; stops at a poll when told to. */
export async function loginAs(fixture: Xs2aFixture, provider: NextGenPsd2Provider, user: string, options: { ctx?: LoginContext; app?: 'approve' | 'reject' | 'ignore'; redirect?: 'login' | 'cancel'; fields?: (step: FormStep) => Record<string, string> } = {}): Promise<{ final: LoginStep; events: string[] }> {
  const ctx = options.ctx ?? fixture.ctx();
  const driver = xs2aDriver(fixture);
  const events: string[] = [];
  const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  let step = await provider.startLogin(ctx);
  for (let i = 0; i < 15; i++) {
    switch (step.kind) {
      case 'done':
        events.push('done');
        return { final: step, events };
      case 'failed':
        events.push(`failed:${step.reason}`);
        return { final: step, events };
      case 'form': {
        events.push(step.error === undefined ? `form:${step.fields.map((f) => f.name).join('+')}` : `form-error:${step.error.field ?? ''}`);
        const fields = options.fields?.(step) ?? (await driver.fill(step, user));
        step = await provider.continueLogin(roundTrip(step.state), { kind: 'form', fields }, ctx);
        break;
      }
      case 'redirect': {
        events.push('redirect');
        let answer = await bankLogin(fixture, step, user, options.redirect ?? 'login');
        if (answer.status === 400) {
          events.push('bank:error');
          answer = await bankLogin(fixture, step, user, options.redirect ?? 'login');
        }
        assert.equal(answer.status, 303, `the bank sends the user back (${answer.status})`);
        step = await provider.continueLogin(roundTrip(step.state), { kind: 'callback', query: callbackQuery(answer.location) }, ctx);
        break;
      }
      case 'poll': {
        events.push('poll');
        const decision = options.app ?? 'approve';
        const approveUrl = step.approveUrl;
        if (approveUrl !== undefined && decision !== 'ignore') {
          const page = await browse(fixture.certs.read(fixture.certs.ca), approveUrl);
          if (page.body.includes('name="pin"')) {
            let answer = await appDecision(fixture, step, decision);
            if (answer.status === 400) {
              events.push('app:error');
              answer = await appDecision(fixture, step, decision);
            }
            assert.equal(answer.status, 303);
          }
        }
        step = await provider.continueLogin(roundTrip(step.state), { kind: 'poll' }, ctx);
        if (step.kind === 'poll' && decision === 'ignore') return { final: step, events: [...events, 'poll'] };
        break;
      }
    }
  }
  throw new Error(`login of ${user} did not end`);
}

/** Every exchange, from both sides, broke no rule of the specification. */
export function assertWireConforms(fixture: Xs2aFixture): void {
  const connectorSide = fixture.sent.filter((e) => e.requestProblems.length + e.responseProblems.length > 0);
  assert.deepEqual(connectorSide.map((e) => ({ op: e.operationId, request: e.requestProblems, response: e.responseProblems })), [], 'the connector found no problem on the wire');
  const bankSide = fixture.received.filter((e) => e.requestProblems.length + e.responseProblems.length > 0);
  assert.deepEqual(bankSide.map((e) => ({ op: e.operationId, status: e.status, request: e.requestProblems, response: e.responseProblems })), [], 'the bank found no problem on the wire');
}

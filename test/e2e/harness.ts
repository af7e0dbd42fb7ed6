import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../src/apps/apps.js';
import { ensureDemoApp } from '../../src/demo/demo-app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import type { BankProvider } from '../../src/providers/types.js';
import { buildServer, type Services } from '../../src/server.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/listen.js';
import type { FastifyInstance } from 'fastify';

/** Debian's Chromium, as CI installs it (`apt-get install chromium`). */
export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** A clock the test can move forward (idle expiry) while real time keeps running. */
export class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

/** A bank that is down: listed, shown as such, never callable. */
export function downBank(): BankProvider {
  const refuse = async (): Promise<never> => {
    throw new Error('a bank that is down is never called');
  };
  return {
    describe: () => ({
      id: 'SandboxClosedBank',
      name: 'Sandbox Closed Bank',
      countryCode: 'DK',
      currency: 'DKK',
      logoUrl: '/assets/banks/testdatabank3.svg',
      status: 'Down',
      loginMethods: ['Password'],
      requiresSupervisedUpdate: false,
    }),
    startLogin: refuse,
    continueLogin: refuse,
    listAccounts: refuse,
    fetchTransactions: refuse,
  };
}

export interface AppCallback {
  url: string;
  /** Every query string the app's redirect URI received, in order. */
  received: URLSearchParams[];
}

export interface E2eFerry {
  baseUrl: string;
  app: FastifyInstance;
  services: Services;
  clock: OffsetClock;
  client: { clientId: string; clientSecret: string; redirectUri: string };
  callback: AppCallback;
  testDb: TestDatabase;
  /** The connect URL an app would send the user to. */
  connectUrl(params?: Record<string, string>): string;
  close(): Promise<void>;
}

/**
 * A real Ferry on a real port over SQLite (or PostgreSQL), with a registered app whose redirect
 * URI is a tiny server on another origin (`localhost` vs `127.0.0.1`), as an app's would be.
 */
export async function startFerry(options: { dialect?: Dialect; brandColor?: string; env?: Record<string, string>; demo?: boolean } = {}): Promise<E2eFerry> {
  const testDb = await createTestDatabase(options.dialect ?? 'sqlite');
  const callback = await startAppCallback();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config: Config = {
    ...loadConfig({ PUBLIC_URL: baseUrl, PORT: String(port), LOG_LEVEL: 'silent', FERRY_DEMO: options.demo ? 'true' : 'false', FERRY_RATE_LIMITS: 'false', ...options.env }),
    database: testDb.config,
  };
  const clock = new OffsetClock();
  const providers = createProviderRegistry({ db: testDb.database.db, sandbox: true, publicUrl: baseUrl, slowStepMs: 300, providers: [downBank()] });
  const { app, services } = await buildServer({ config, database: testDb.database, clock, providers });
  await app.listen({ port, host: '127.0.0.1' });
  // The demo app of `npm start` is made only on a database without apps: before the test's own.
  if (options.demo && (await ensureDemoApp(testDb.database.db, clock, baseUrl)) === null) throw new Error('the demo app was not created');
  const { app: registered, clientSecret } = await createApp(testDb.database.db, clock, {
    name: 'Budget Buddy',
    redirectUris: [callback.url],
    brandColor: options.brandColor ?? '#0f766e',
  });
  const client = { clientId: registered.id, clientSecret, redirectUri: callback.url };
  return {
    baseUrl,
    app,
    services,
    clock,
    client,
    callback,
    testDb,
    connectUrl(params = {}) {
      const url = new URL(`${baseUrl}/v1/oauth/connect`);
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', client.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', 'accounts');
      url.searchParams.set('state', 'state-123');
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      return url.toString();
    },
    async close() {
      await app.close();
      await callback.close();
      await testDb.drop();
    },
  };
}

async function startAppCallback(): Promise<AppCallback & { close(): Promise<void> }> {
  const received: URLSearchParams[] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    received.push(url.searchParams);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><head><title>Budget Buddy</title></head><body><main><h1>Back in Budget Buddy</h1></main></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/callback`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Exchanges the code the app received at the token endpoint, as the app's server would. */
export async function exchangeCode(ferry: E2eFerry, code: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${ferry.baseUrl}/v1/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${ferry.client.clientId}:${ferry.client.clientSecret}`, 'latin1').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: ferry.client.redirectUri }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export type { Page };

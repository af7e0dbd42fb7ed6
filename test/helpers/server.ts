import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/apps/apps.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createFlowSession, finishFlowSession, flowSessionIdFromHandle, type ConnectParams } from '../../src/flow/session.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import type { BankProvider } from '../../src/providers/types.js';
import { buildServer, type Services } from '../../src/server.js';
import { createTestDatabase, type Dialect, type TestDatabase } from './database.js';

export const PUBLIC_URL = 'https://ferry.test';

export interface TestServer {
  app: FastifyInstance;
  services: Services;
  clock: ManualClock;
  testDb: TestDatabase;
  close(): Promise<void>;
}

/** A fresh Ferry over a fresh database of the dialect, with a hand-moved clock and quiet logs. */
export async function createTestServer(dialect: Dialect, env: Record<string, string> = {}, options: { extraProviders?: BankProvider[] } = {}): Promise<TestServer> {
  const testDb = await createTestDatabase(dialect);
  const clock = new ManualClock();
  const config: Config = { ...loadConfig({ PUBLIC_URL, LOG_LEVEL: 'silent', FERRY_DEMO: 'false', ...env }), database: testDb.config };
  const providers =
    options.extraProviders === undefined
      ? undefined
      : createProviderRegistry({ db: testDb.database.db, sandbox: true, publicUrl: PUBLIC_URL, providers: options.extraProviders });
  const { app, services } = await buildServer({ config, database: testDb.database, clock, ...(providers ? { providers } : {}) });
  await app.ready();
  return {
    app,
    services,
    clock,
    testDb,
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  basic: string;
}

export async function createTestClient(server: TestServer, redirectUris = ['https://app.example.com/callback']): Promise<TestClient> {
  const { app, clientSecret } = await createApp(server.services.database.db, server.clock, { name: 'Budget Buddy', redirectUris });
  return {
    clientId: app.id,
    clientSecret,
    redirectUri: redirectUris[0]!,
    basic: `Basic ${Buffer.from(`${app.id}:${clientSecret}`, 'latin1').toString('base64')}`,
  };
}

const DEFAULT_PARAMS: ConnectParams = {
  culture: null,
  providerId: null,
  email: null,
  consentId: null,
  selectAllAccounts: false,
  accountsGroupId: null,
  accountsGroupName: null,
  bankAccountNumbers: [],
};

/** Runs a flow to its end without the pages: what the hosted flow does when the user accepts. */
export async function issueCode(
  server: TestServer,
  client: TestClient,
  options: { scopes?: string; codeChallenge?: string | null; state?: string | null; redirectUri?: string } = {},
): Promise<{ code: string; consentId: string; redirectUrl: string }> {
  const { services, clock } = server;
  const { id } = await createFlowSession(services.database.db, clock, {
    appId: client.clientId,
    redirectUri: options.redirectUri ?? client.redirectUri,
    state: options.state ?? 'xyz',
    scopes: options.scopes ?? 'accounts',
    codeChallenge: options.codeChallenge ?? null,
    params: DEFAULT_PARAMS,
  });
  const finished = await finishFlowSession(
    { db: services.database.db, clock, issuer: services.config.publicUrl, oneTimeRetentionMs: services.config.oneTimeRetentionSeconds * 1000 },
    id,
    { providerId: 'TestDataBank1' },
  );
  if (finished === null) throw new Error('flow did not finish');
  const code = new URL(finished.redirectUrl).searchParams.get('code');
  if (code === null) throw new Error('no code in redirect');
  return { code, consentId: finished.consentId, redirectUrl: finished.redirectUrl };
}

export { flowSessionIdFromHandle };

import { Writable } from 'node:stream';
import { createApp } from '../../src/apps/apps.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createProviderRegistry, type ProviderRegistry } from '../../src/providers/registry.js';
import type { BankProvider } from '../../src/providers/types.js';
import { buildServer } from '../../src/server.js';
import { createTestDatabase, type Dialect } from '../helpers/database.js';
import { PUBLIC_URL, type TestClient, type TestServer } from '../helpers/server.js';

export interface FlowTestServer extends TestServer {
  /** Every log line the server wrote (JSON text), to check nothing secret reaches the log. */
  logs: string[];
  /** How many times each provider method was called, per provider id. */
  calls: Map<string, number>;
}

/** A bank that is down: listed, shown as such, never called. */
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

/** Counts the login calls a provider receives (a double post must reach the bank once). */
function counted(provider: BankProvider, calls: Map<string, number>): BankProvider {
  const id = provider.describe().id;
  const count = () => calls.set(id, (calls.get(id) ?? 0) + 1);
  return {
    describe: () => provider.describe(),
    logoSvg: provider.logoSvg?.bind(provider),
    startLogin: async (ctx) => (count(), provider.startLogin(ctx)),
    continueLogin: async (state, input, ctx) => (count(), provider.continueLogin(state, input, ctx)),
    listAccounts: (connection, ctx) => provider.listAccounts(connection, ctx),
    fetchTransactions: (connection, accountId, range, ctx) => provider.fetchTransactions(connection, accountId, range, ctx),
  };
}

/** A Ferry for the hosted-flow tests: the sandbox banks (login calls counted) plus one that is down; logs captured. */
export async function createFlowTestServer(dialect: Dialect, env: Record<string, string> = {}): Promise<FlowTestServer> {
  const testDb = await createTestDatabase(dialect);
  const clock = new ManualClock();
  const config: Config = { ...loadConfig({ PUBLIC_URL, LOG_LEVEL: 'info', FERRY_DEMO: 'false', ...env }), database: testDb.config };
  const logs: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (logs.push(String(chunk)), done()) }));
  const calls = new Map<string, number>();
  const sandbox = createProviderRegistry({ db: testDb.database.db, sandbox: true, publicUrl: PUBLIC_URL, slowStepMs: 50, providers: [downBank()] });
  const wrapped = new Map(sandbox.list().map((p) => [p.describe().id, counted(p, calls)]));
  const providers: ProviderRegistry = { ...sandbox, get: (id) => wrapped.get(id), list: () => [...wrapped.values()] };
  const { app, services } = await buildServer({ config, database: testDb.database, clock, providers, logger });
  await app.ready();
  return {
    app,
    services,
    clock,
    testDb,
    logs,
    calls,
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

export async function createFlowTestClient(server: TestServer, options: { brandColor?: string; logoUrl?: string } = {}): Promise<TestClient> {
  const redirectUri = 'https://app.example.com/callback';
  const { app, clientSecret } = await createApp(server.services.database.db, server.clock, {
    name: 'Budget Buddy',
    redirectUris: [redirectUri],
    ...(options.brandColor !== undefined ? { brandColor: options.brandColor } : {}),
    ...(options.logoUrl !== undefined ? { logoUrl: options.logoUrl } : {}),
  });
  return { clientId: app.id, clientSecret, redirectUri, basic: `Basic ${Buffer.from(`${app.id}:${clientSecret}`, 'latin1').toString('base64')}` };
}

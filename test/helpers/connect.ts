import { createFlowConsent, createFlowSession, finishFlowSession, type ConnectParams } from '../../src/flow/session.js';
import type { LoginStep, ProviderConnection } from '../../src/providers/types.js';
import type { TestClient, TestServer } from './server.js';

export const SANDBOX_PASSWORD = '1234';
export const SANDBOX_OTP = '123456';

const PARAMS: ConnectParams = {
  culture: null,
  providerId: null,
  email: null,
  consentId: null,
  selectAllAccounts: false,
  accountsGroupId: null,
  accountsGroupName: null,
  bankAccountNumbers: [],
};

/** Logs in at a sandbox bank through the provider interface, answering forms as a user would. */
export async function loginAtBank(server: TestServer, providerId: string, username: string): Promise<ProviderConnection> {
  const provider = server.services.providers.get(providerId);
  if (provider === undefined) throw new Error(`no provider ${providerId}`);
  const ctx = { culture: 'en' as const, publicUrl: server.services.config.publicUrl, returnUrl: `${server.services.config.publicUrl}/flow/bank/callback`, now: () => server.clock.now() };
  let step: LoginStep = await provider.startLogin(ctx);
  for (let i = 0; i < 10; i++) {
    if (step.kind === 'done') return step.connection;
    if (step.kind === 'failed') throw new Error(`login failed: ${step.reason}`);
    if (step.kind !== 'form') throw new Error(`this helper answers forms only, got ${step.kind}`);
    const fields = Object.fromEntries(step.fields.map((f) => [f.name, f.type === 'password' ? SANDBOX_PASSWORD : f.type === 'otp' ? SANDBOX_OTP : username]));
    step = await provider.continueLogin(step.state, { kind: 'form', fields }, ctx);
  }
  throw new Error('login did not finish');
}

export interface ConnectedConsent {
  consentId: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * What the hosted flow does, without the pages: log in at the bank, share every account, accept,
 * and exchange the code. The first sync is queued, not run (call `server.services.jobs.runDue()`).
 */
export async function connectConsent(
  server: TestServer,
  client: TestClient,
  options: { providerId?: string; username: string; scopes?: string; email?: string },
): Promise<ConnectedConsent> {
  const { services, clock } = server;
  const providerId = options.providerId ?? 'TestDataBank1';
  const connection = await loginAtBank(server, providerId, options.username);
  const accounts = await services.providers.get(providerId)!.listAccounts(connection, { now: () => clock.now() });
  const { id } = await createFlowSession(services.database.db, clock, {
    appId: client.clientId,
    redirectUri: client.redirectUri,
    state: 's',
    scopes: options.scopes ?? 'accounts',
    codeChallenge: null,
    params: { ...PARAMS, email: options.email ?? null },
  });
  await createFlowConsent(services.flow, id, { providerId, connection, accounts });
  const finished = await finishFlowSession(services.flow, id, { providerId });
  const code = new URL(finished!.redirectUrl).searchParams.get('code')!;
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { authorization: client.basic, 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri }),
  });
  if (res.statusCode !== 200) throw new Error(`token exchange failed: ${res.body}`);
  const tokens = res.json();
  return { consentId: finished!.consentId, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

/** Runs due jobs until none is left (the first sync, say). */
export async function runJobs(server: TestServer): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await server.services.jobs.runDue()) === 0) return;
}

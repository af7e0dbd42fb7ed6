import assert from 'node:assert/strict';
import { createApp } from '../../../src/apps/apps.js';
import { createFlowConsent, finishFlowSession, flowSessionIdFromHandle } from '../../../src/flow/session.js';
import { loginAtBank, runJobs } from '../../../test/helpers/connect.js';
import { freePort } from '../../../test/helpers/listen.js';
import { createTestServer, type TestServer } from '../../../test/helpers/server.js';
import type { FetchLike } from '../src/index.js';

/** A real Ferry, listening on loopback, whose public URL is the address it listens on. */
export interface RunningFerry {
  baseUrl: string;
  server: TestServer;
  close(): Promise<void>;
}

export async function startFerry(): Promise<RunningFerry> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const server = await createTestServer('sqlite', { PUBLIC_URL: baseUrl });
  await server.app.listen({ port, host: '127.0.0.1' });
  return { baseUrl, server, close: () => server.close() };
}

export interface RegisteredApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export async function registerApp(ferry: RunningFerry, extra: { webhookUrl?: string; webhookSecret?: string } = {}): Promise<RegisteredApp> {
  const redirectUri = 'https://app.example.com/callback';
  const { app, clientSecret } = await createApp(ferry.server.services.database.db, ferry.server.clock, { name: 'Client test app', redirectUris: [redirectUri], ...extra });
  return { clientId: app.id, clientSecret, redirectUri };
}

/**
 * The user's part, from the connect URL to the redirect back to the app: the browser follows the
 * connect URL over HTTP (Ferry answers 301 into its hosted flow); the pages themselves (consent,
 * bank, login, accounts, accept) are what the hosted-flow tests drive, so here the steps behind
 * them run directly on the flow session that the 301 points at: a real login at a sandbox bank,
 * every account shared. Returns the URL Ferry sends the browser back to, and runs the first sync.
 */
export async function walkConnectFlow(ferry: RunningFerry, connectUrl: string, options: { providerId?: string; username?: string } = {}): Promise<string> {
  const { server } = ferry;
  const connect = await fetch(connectUrl, { redirect: 'manual' });
  assert.equal(connect.status, 301, `connect answered ${connect.status}: ${await connect.text()}`);
  const location = new URL(connect.headers.get('location')!);
  assert.equal(location.origin, ferry.baseUrl);
  const flowId = flowSessionIdFromHandle(location.searchParams.get('f')!);

  const providerId = options.providerId ?? 'TestDataBank1';
  const connection = await loginAtBank(server, providerId, options.username ?? 'alice');
  const accounts = await server.services.providers.get(providerId)!.listAccounts(connection, { now: () => server.clock.now() });
  await createFlowConsent(server.services.flow, flowId, { providerId, connection, accounts });
  const finished = await finishFlowSession(server.services.flow, flowId, { providerId });
  assert.ok(finished, 'the flow finished');
  await runJobs(server);
  return finished.redirectUrl;
}

/** A fetch that records each request's method and path (to count token requests). */
export function recordingFetch(): { fetch: FetchLike; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    fetch: (url, init) => {
      requests.push(`${init.method ?? 'GET'} ${new URL(url).pathname}`);
      return fetch(url, init);
    },
  };
}

/**
 * Prepares Ferry databases for the data API benchmark the way test/helpers/connect.ts does: a fresh
 * SQLite file or PostgreSQL schema, migrated; one app; consents made by logging in at a sandbox bank
 * through the provider interface, creating and finishing the flow session, and exchanging the code
 * at the token endpoint (inject); then the queued first sync, run by the job runner.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/apps/apps.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig, type Config, type DatabaseConfig } from '../../src/config.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { sql } from 'kysely';
import { createFlowConsent, createFlowSession, finishFlowSession, type ConnectParams } from '../../src/flow/session.js';
import type { LoginStep, ProviderConnection } from '../../src/providers/types.js';
import { buildServer, type Services } from '../../src/server.js';
import type { FastifyInstance } from 'fastify';

export type Dialect = 'sqlite' | 'postgres';

export const BENCH_POSTGRES_URL = process.env.FERRY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The application_name of every connection the benchmark makes for Ferry, so that run.ts counts the CPU of those PostgreSQL backends and no one else's. */
export const BENCH_APPLICATION_NAME = 'ferry_bench_data';
/** The benchmark's PostgreSQL URL, its connections named {@link BENCH_APPLICATION_NAME}. */
export function benchPostgresUrl(): string {
  const url = new URL(BENCH_POSTGRES_URL);
  url.searchParams.set('application_name', BENCH_APPLICATION_NAME);
  return url.toString();
}
const REDIRECT_URI = 'https://app.example.com/callback';
const PROVIDER_ID = 'TestDataBank1';
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

export interface BenchDatabase {
  database: FerryDatabase;
  /** Environment that points `ferry start` at this database. */
  env: Record<string, string>;
  /** Closes the connection of this process (the database stays for a child). */
  close(): Promise<void>;
  /** Removes the file or the schema. */
  drop(): Promise<void>;
}

/** A fresh, migrated database: a temp SQLite file (WAL), or a new schema in the local PostgreSQL. */
export async function createBenchDatabase(dialect: Dialect, poolSize = 10): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-data-'));
    const file = path.join(dir, 'ferry.sqlite');
    const database = await openDatabase({ dialect: 'sqlite', file });
    await migrateOrThrow(database);
    let closed = false;
    const close = async () => {
      if (!closed) await database.close();
      closed = true;
    };
    return { database, env: { FERRY_DB_FILE: file }, close, drop: async () => (await close(), fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const schema = `ferry_bench_data_${randomBytes(5).toString('hex')}`;
  const database = await openDatabase({ dialect: 'postgres', url: benchPostgresUrl(), poolSize }, { schema });
  await migrateOrThrow(database);
  // `ferry start` has no schema option; libpq's `options` in the URL sets the same search_path.
  const url = new URL(benchPostgresUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  let closed = false;
  const close = async () => {
    if (!closed) await database.close();
    closed = true;
  };
  return {
    database,
    env: { DATABASE_URL: url.toString() },
    close,
    async drop() {
      await close();
      const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface BenchServer {
  app: FastifyInstance;
  services: Services;
  clientId: string;
  basic: string;
  close(): Promise<void>;
}

/** Ferry in this process (no port), over the database, with one app: to make consents. */
export async function createBenchServer(database: FerryDatabase, databaseConfig: DatabaseConfig, publicUrl: string): Promise<BenchServer> {
  const config: Config = {
    ...loadConfig({ PUBLIC_URL: publicUrl, LOG_LEVEL: 'silent', FERRY_DEMO: 'false', FERRY_RATE_LIMITS: 'false' }),
    database: databaseConfig,
  };
  const { app, services } = await buildServer({ config, database, clock: systemClock });
  await app.ready();
  const { app: registered, clientSecret } = await createApp(database.db, systemClock, { name: 'Data Bench', redirectUris: [REDIRECT_URI] });
  return {
    app,
    services,
    clientId: registered.id,
    basic: `Basic ${Buffer.from(`${registered.id}:${clientSecret}`, 'latin1').toString('base64')}`,
    close: () => app.close(),
  };
}

async function loginAtBank(server: BenchServer, username: string): Promise<ProviderConnection> {
  const provider = server.services.providers.get(PROVIDER_ID)!;
  const publicUrl = server.services.config.publicUrl;
  const ctx = { culture: 'en' as const, publicUrl, returnUrl: `${publicUrl}/flow/bank/callback`, now: () => systemClock.now() };
  let step: LoginStep = await provider.startLogin(ctx);
  for (let i = 0; i < 10 && step.kind === 'form'; i++) {
    const fields = Object.fromEntries(step.fields.map((f) => [f.name, f.type === 'password' ? '1234' : f.type === 'otp' ? '123456' : username]));
    step = await provider.continueLogin(step.state, { kind: 'form', fields }, ctx);
  }
  if (step.kind !== 'done') throw new Error(`login of ${username} ended ${step.kind}`);
  return step.connection;
}

export interface BenchConsent {
  consentId: string;
  accessToken: string;
}

/** What the hosted flow does when the user shares every account and accepts; the first sync is queued, not run. */
export async function connectConsent(server: BenchServer, username: string, scopes = 'accounts offline_access'): Promise<BenchConsent> {
  const { services } = server;
  const connection = await loginAtBank(server, username);
  const accounts = await services.providers.get(PROVIDER_ID)!.listAccounts(connection, { now: () => systemClock.now() });
  const { id } = await createFlowSession(services.database.db, systemClock, {
    appId: server.clientId,
    redirectUri: REDIRECT_URI,
    state: 's',
    scopes,
    codeChallenge: null,
    params: PARAMS,
  });
  await createFlowConsent(services.flow, id, { providerId: PROVIDER_ID, connection, accounts });
  const finished = await finishFlowSession(services.flow, id, { providerId: PROVIDER_ID });
  const code = new URL(finished!.redirectUrl).searchParams.get('code')!;
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    headers: { authorization: server.basic, 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }),
  });
  if (res.statusCode !== 200) throw new Error(`token exchange failed: ${res.body}`);
  return { consentId: finished!.consentId, accessToken: res.json<{ access_token: string }>().access_token };
}

/** Runs due jobs until none is left (the first syncs). */
export async function runJobs(server: BenchServer): Promise<void> {
  for (let i = 0; i < 100; i++) if ((await server.services.jobs.runDue()) === 0) return;
}

/**
 * Brings PostgreSQL's planner statistics up to date, as autovacuum does within a minute of a
 * large sync: without them it thinks the new tables empty and sorts a whole account's
 * transactions for every page instead of reading 51 from the keyset index.
 */
export async function analyze(database: FerryDatabase): Promise<void> {
  if (database.capabilities.dialect === 'postgres') await sql`analyze`.execute(database.db);
}

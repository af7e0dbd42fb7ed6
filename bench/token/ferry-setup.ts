/**
 * Prepares a Ferry database for the token benchmark: migrated, one app, and N authorization codes
 * minted ahead, each with its own consent, as finishFlowSession leaves them (same rows, same
 * hashing: SHA-256 of a random 256-bit code, S256 challenge of a random 43-character verifier).
 * Rows are written with multi-row INSERTs in one transaction, so 200,000 codes take seconds.
 *
 * The one difference from a real flow: codes live an hour instead of a minute
 * (AUTHORIZATION_CODE_TTL_MS), so that they outlast minting and the run. The exchange reads the
 * same columns either way.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/apps/apps.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import type { Insertable } from 'kysely';

export const BENCH_POSTGRES_URL = process.env.FERRY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIRECT_URI = 'https://app.example.com/callback';
const CODE_LIFETIME_MS = 60 * 60 * 1000;
const BATCH = 500;

export interface MintedCode {
  code: string;
  verifier: string;
}

export interface PreparedFerry {
  /** Environment for `ferry start` (besides PORT, HOST, PUBLIC_URL). */
  env: Record<string, string>;
  clientId: string;
  basic: string;
  redirectUri: string;
  codes: MintedCode[];
  mintSeconds: number;
  /** PostgreSQL: the benchmark's database (its backends' process titles name it); SQLite: null. */
  databaseName: string | null;
  cleanup(): Promise<void>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const token = () => randomBytes(32).toString('base64url');

export async function prepareFerry(dialect: 'sqlite' | 'postgres', count: number): Promise<PreparedFerry> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-token-'));
    const file = path.join(dir, 'ferry.sqlite');
    const database = await openDatabase({ dialect: 'sqlite', file });
    const minted = await mint(database, count);
    await database.close();
    return { ...minted, env: { FERRY_DB_FILE: file }, databaseName: null, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `ferry_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ dialect: 'postgres', url: url.toString(), poolSize: 4 });
  const minted = await mint(database, count);
  await database.close();
  return {
    ...minted,
    env: { DATABASE_URL: url.toString() },
    databaseName: name,
    cleanup: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

async function mint(database: FerryDatabase, count: number): Promise<Omit<PreparedFerry, 'env' | 'cleanup' | 'databaseName'>> {
  await migrateOrThrow(database);
  const { db } = database;
  const { app, clientSecret } = await createApp(db, systemClock, { name: 'Token Bench', redirectUris: [REDIRECT_URI] });
  const started = performance.now();
  const now = Date.now();
  const codes: MintedCode[] = [];
  await db.transaction().execute(async (trx) => {
    for (let offset = 0; offset < count; offset += BATCH) {
      const consents: Insertable<Database['consents']>[] = [];
      const rows: Insertable<Database['authorization_codes']>[] = [];
      for (let i = offset; i < Math.min(count, offset + BATCH); i++) {
        const consentId = randomUUID();
        consents.push({
          id: consentId,
          app_id: app.id,
          user_id: randomUUID(),
          scopes: 'accounts',
          one_time: 0,
          provider_id: 'TestDataBank1',
          status: 'Active',
          group_id: null,
          group_name: null,
          created_at: now,
          delete_at: null,
          revoked_at: null,
        });
        const code = token();
        const verifier = token();
        codes.push({ code, verifier });
        rows.push({
          hash: sha256(code),
          app_id: app.id,
          consent_id: consentId,
          redirect_uri: REDIRECT_URI,
          scopes: 'accounts',
          code_challenge: sha256(verifier),
          created_at: now,
          expires_at: now + CODE_LIFETIME_MS,
          consumed_at: null,
          grant_id: null,
        });
      }
      await trx.insertInto('consents').values(consents).execute();
      await trx.insertInto('authorization_codes').values(rows).execute();
    }
  });
  return {
    clientId: app.id,
    basic: `Basic ${Buffer.from(`${app.id}:${clientSecret}`, 'latin1').toString('base64')}`,
    redirectUri: REDIRECT_URI,
    codes,
    mintSeconds: (performance.now() - started) / 1000,
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

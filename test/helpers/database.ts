import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';

export type Dialect = 'sqlite' | 'postgres';

/** The PostgreSQL server the suite uses (the machine's own, trust auth). */
export const TEST_POSTGRES_URL = process.env.FERRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Dialects to run database tests on: both by default; FERRY_TEST_DIALECTS=sqlite narrows. */
export const DIALECTS: Dialect[] = (process.env.FERRY_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is Dialect => d === 'sqlite' || d === 'postgres');

export interface TestDatabase {
  database: FerryDatabase;
  config: DatabaseConfig;
  /** For PostgreSQL, the schema this database lives in (give it to other processes). */
  schema: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, migrated database of the given dialect: a temp SQLite file, or a new PostgreSQL schema. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-'));
    const config: DatabaseConfig = { dialect: 'sqlite', file: path.join(dir, 'ferry.sqlite') };
    const database = await openDatabase(config);
    await migrateOrThrow(database);
    return {
      database,
      config,
      schema: undefined,
      async drop() {
        await database.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `ferry_test_${randomBytes(6).toString('hex')}`;
  const config: DatabaseConfig = { dialect: 'postgres', url: TEST_POSTGRES_URL, poolSize: 10 };
  const database = await openDatabase(config, { schema });
  await migrateOrThrow(database);
  return {
    database,
    config,
    schema,
    async drop() {
      await database.close();
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

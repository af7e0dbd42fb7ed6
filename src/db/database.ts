import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Database } from './schema.js';

/**
 * What differs between the databases Ferry runs on, said once as capability flags
 * (as Kysely's own adapters do) rather than `if (dialect === …)` through the queries.
 */
export interface DatabaseCapabilities {
  readonly dialect: 'sqlite' | 'postgres';
  /** `SELECT … FOR UPDATE SKIP LOCKED` for job claims (PostgreSQL); SQLite serialises writers instead. */
  readonly supportsSkipLocked: boolean;
  /** Several processes may share the database (PostgreSQL; SQLite only within one machine). */
  readonly multiHost: boolean;
}

export interface FerryDatabase {
  readonly db: Kysely<Database>;
  readonly capabilities: DatabaseCapabilities;
  /** A cheap round trip, for `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL schema to use (tests give each file its own); created when missing. */
  schema?: string;
}

export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<FerryDatabase> {
  return config.dialect === 'sqlite' ? openSqlite(config.file) : openPostgres(config.url, config.poolSize, options.schema);
}

function openSqlite(file: string): FerryDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Erased personal data is overwritten, not left in free pages (one-time retention).
  sqlite.pragma('secure_delete = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    capabilities: { dialect: 'sqlite', supportsSkipLocked: false, multiHost: false },
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      await db.destroy();
    },
  };
}

/** Statements kept prepared per SQLite connection; Ferry's queries are far fewer, one-off multi-row inserts aside. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, which costs more than running it (tens of µs
 * for a join against a few µs); SQLite statements are reusable, so keep the recent ones.
 * A statement still being iterated (a streamed query) is busy and cannot be reused: such a
 * call gets a fresh statement.
 */
function withStatementCache(sqlite: SQLite.Database): { prepare(sql: string): SQLite.Statement; close(): void } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached !== undefined) {
        if (cached.busy) return sqlite.prepare(sql);
        // Map order is insertion order: moving a hit to the end keeps the first key the least recently used.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = sqlite.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, statement);
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

async function openPostgres(url: string, poolSize: number, schema?: string): Promise<FerryDatabase> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  if (schema !== undefined) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Times are bigint milliseconds; they fit a JavaScript number exactly until the year 287396.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : oid === NUMERIC_OID ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // A client that loses its connection (the database restarted) must not crash the process: an
  // idle one reports on the pool, a busy one on itself (its query fails with the same error).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    capabilities: { dialect: 'postgres', supportsSkipLocked: true, multiHost: true },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

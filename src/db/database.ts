import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, sql, type Compilable, type DatabaseConnection, type Driver, type InferResult, type Insertable, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { startCheckpointer } from './checkpointer.js';
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
  /** How it was opened: a thread of its own opens its own connection the same way (src/consents/sweep-thread.ts). */
  readonly opened: { readonly config: DatabaseConfig; readonly options: OpenDatabaseOptions };
  /** A cheap round trip, for `/readyz`. */
  ping(): Promise<void>;
  /**
   * Runs SQL compiled once ({@link prepareQuery}) on a statement prepared once per connection: a
   * kept better-sqlite3 statement, or a named PostgreSQL statement (parsed and planned once per
   * connection). Rows are the objects Kysely would return. For the hot read paths.
   */
  runPrepared<Row>(query: PreparedSql, parameters: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs an INSERT, UPDATE or DELETE compiled once ({@link prepareQuery}) that returns no rows, and
   * says how many rows it changed. On SQLite it joins the group commit ({@link groupCommit}): the
   * small writes of the requests of the same few milliseconds share one COMMIT, and the
   * promise settles after it. On PostgreSQL, a named statement of its own.
   */
  runPreparedWrite(query: PreparedSql, parameters: readonly unknown[]): Promise<number>;
  /**
   * SQLite only (undefined on PostgreSQL): group commit. `work` runs synchronously on the raw
   * connection, in its own SAVEPOINT of one `BEGIN IMMEDIATE … COMMIT` shared by all the work
   * queued within GROUP_COMMIT_WINDOW_MS of the first; the promise settles after the COMMIT, so a write is
   * as durable as with a transaction of its own. A `work` that throws rolls back alone.
   * Why: a commit (the WAL append of every page touched, now and then a checkpoint) costs more
   * than the small writes of a request; 50 requests sharing one cost it once.
   */
  readonly groupCommit?: <T>(work: (sqlite: SQLite.Database) => T) => Promise<T>;
  /**
   * SQLite only: a transaction of Kysely queries that joins the group commit ({@link transact}).
   * `body` runs in its own SAVEPOINT of the batch's `BEGIN IMMEDIATE … COMMIT`; the promise
   * settles after the COMMIT; a body that throws rolls back alone.
   */
  readonly groupTransaction?: <T>(body: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;
  /**
   * SQLite only: a text that changes whenever anything in the database may have changed, by this
   * connection (its `total_changes()`, written or not yet committed) or by any other one (another
   * process, a worker thread, the CLI); see {@link sqliteChangeMark}. For reads kept while nothing
   * changed (src/data/data-store.ts).
   */
  readonly changeMark?: () => string;
  /** Bulk writes, each database's fastest way; use {@link insertRows} and {@link updateRows}. */
  readonly bulk: BulkWrites;
  close(): Promise<void>;
}

/** Rows of one table, all with the same columns (those of the first row). */
type Rows = ReadonlyArray<Readonly<Record<string, unknown>>>;

interface BulkWrites {
  /** With a fence, each chunk is written only while the fence holds (see {@link WriteFence}). */
  insert(table: string, rows: Rows, fence?: WriteFence): Promise<void>;
  /** Sets each row's other columns on the row whose `key` column has the row's `key` value. */
  update(table: string, key: string, rows: Rows): Promise<void>;
}

/**
 * A fencing token for a long run of writes (src/data/sync.ts): the row `id` of `table` must still
 * hold `value` in `column` when each chunk of rows is written. The check is an UPDATE of that row
 * in the chunk's own transaction, so it holds the row's lock until the chunk commits: a newer
 * writer, which moves the value on first, waits for the chunk, and the older writer's next chunk
 * then fails with {@link WriteFenceLost} and writes nothing.
 */
export interface WriteFence {
  table: 'accounts';
  column: 'sync_fence';
  id: string;
  value: number;
}

/** A fenced write found its fence moved on: a newer writer took over (see {@link WriteFence}). */
export class WriteFenceLost extends Error {
  constructor(fence: WriteFence) {
    super(`${fence.table} ${fence.id}: ${fence.column} is no longer ${fence.value}; a newer writer took over`);
    this.name = 'WriteFenceLost';
  }
}

/** The fence's check: an UPDATE of the fence's row that changes one row while the fence holds. */
function fenceCheckSql(fence: WriteFence, placeholders: [string, string]): string {
  const column = quoteName(fence.column);
  return `update ${quoteName(fence.table)} set ${column} = ${column} where "id" = ${placeholders[0]} and ${column} = ${placeholders[1]}`;
}

/** SQL compiled for this database, with a name that is the same for the same text. */
export interface PreparedSql {
  readonly sql: string;
  readonly name: string;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL schema to use (tests give each file its own); created when missing. */
  schema?: string;
}

export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<FerryDatabase> {
  const open = config.dialect === 'sqlite' ? openSqlite(config.file) : await openPostgres(config.url, config.poolSize, options.schema);
  const database: FerryDatabase = Object.assign(open, { opened: { config, options } });
  adapters.set(database.db, database);
  return database;
}

function openSqlite(file: string): Omit<FerryDatabase, 'opened'> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Erased personal data is overwritten, not left in free pages (one-time retention).
  sqlite.pragma('secure_delete = ON');
  // WAL checkpoints in a worker thread, not in the commits of the serving thread (src/db/checkpointer.ts).
  const checkpointer = startCheckpointer(sqlite, file, (message) => process.emitWarning(`SQLite checkpoints are back on the serving thread: ${message}`, 'FerryWarning'));
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: statements }) });
  const prepared = new Map<string, { statement: SQLite.Statement; toRow: (values: unknown[]) => unknown }>();
  const kyselyBulk = kyselyBulkWrites(db);
  /**
   * better-sqlite3's fastest write: one prepared single-row statement run for each row, many rows
   * to a transaction (3× a 500-row INSERT, whose thousands of parameters SQLite binds and plans
   * every time). Chunks keep the write lock, and this thread, for ~20 ms at most; between them
   * other work runs. Inside someone's Kysely transaction, which holds the one connection, the
   * chunk queues behind it through Kysely instead.
   */
  const writeChunks = async (rows: Rows, statementSql: string, parameters: readonly string[], viaKysely: (chunk: Rows) => Promise<void>, fence?: WriteFence) => {
    const statement = statements.prepare(statementSql);
    const run = runWithRow(parameters);
    const fenceCheck = fence === undefined ? undefined : statements.prepare(fenceCheckSql(fence, ['?', '?']));
    const writeChunk = sqlite.transaction((chunk: Rows) => {
      if (fence !== undefined && fenceCheck!.run(fence.id, fence.value).changes !== 1) throw new WriteFenceLost(fence);
      for (const row of chunk) run(statement, row);
    });
    for (let i = 0; i < rows.length; i += SQLITE_WRITE_CHUNK) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = rows.slice(i, i + SQLITE_WRITE_CHUNK);
      if (sqlite.inTransaction) await viaKysely(chunk);
      else writeChunk(chunk);
    }
  };
  const bulk: BulkWrites = {
    async insert(table, rows, fence) {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]!);
      const statementSql = `insert into ${quoteName(table)} (${columns.map(quoteName).join(', ')}) values (${columns.map(() => '?').join(', ')})`;
      await writeChunks(rows, statementSql, columns, (chunk) => kyselyBulk.insert(table, chunk, fence), fence);
    },
    async update(table, key, rows) {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]!).filter((c) => c !== key);
      const statementSql = `update ${quoteName(table)} set ${columns.map((c) => `${quoteName(c)} = ?`).join(', ')} where ${quoteName(key)} = ?`;
      await writeChunks(rows, statementSql, [...columns, key], (chunk) => kyselyBulk.update(table, key, chunk));
    },
  };
  const { groupCommit, groupTransaction } = groupCommitter(sqlite, db);
  const writes = new Map<string, SQLite.Statement>();
  const changeMark = sqliteChangeMark(sqlite, file);
  return {
    db,
    bulk,
    groupCommit,
    changeMark: changeMark.read,
    capabilities: { dialect: 'sqlite', supportsSkipLocked: false, multiHost: false },
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async runPrepared<Row>(query: PreparedSql, parameters: readonly unknown[]): Promise<Row[]> {
      // A Kysely transaction holds the one connection across awaits: queue behind it like any
      // query rather than read from inside it.
      if (sqlite.inTransaction) return (await db.executeQuery(CompiledQuery.raw(query.sql, [...parameters]))).rows as Row[];
      let entry = prepared.get(query.sql);
      if (entry === undefined) {
        // Rows as arrays, made objects by a function of the columns: half the cost of
        // better-sqlite3's own objects. Safe because prepared queries name their columns.
        const statement = sqlite.prepare(query.sql).raw(true);
        entry = { statement, toRow: rowConstructor(statement.columns().map((c) => c.name)) };
        prepared.set(query.sql, entry);
      }
      const values = entry.statement.all(parameters) as unknown[][];
      const rows = new Array<Row>(values.length);
      for (let i = 0; i < values.length; i++) rows[i] = entry.toRow(values[i]!) as Row;
      return rows;
    },
    runPreparedWrite(query: PreparedSql, parameters: readonly unknown[]): Promise<number> {
      return groupCommit((connection) => {
        let statement = writes.get(query.sql);
        if (statement === undefined) {
          statement = connection.prepare(query.sql);
          writes.set(query.sql, statement);
        }
        return statement.run(parameters).changes;
      });
    },
    async close() {
      // The worker's connection closes first, so that closing the last one checkpoints and removes the WAL.
      await checkpointer?.stop();
      changeMark.close();
      await db.destroy();
    },
  };
}

/** Bytes of the WAL-index header's first copy (https://sqlite.org/walformat.html, "The WAL-Index Header"). */
const WAL_INDEX_HEADER_BYTES = 48;

/**
 * {@link FerryDatabase.changeMark} for SQLite: this connection's `total_changes()` (~0.4 µs, no
 * lock) and, for every other connection's commits, the header at the start of the WAL-index file
 * (`<file>-shm`), read with one `pread` (~3 µs). Every commit in WAL mode rewrites that header
 * (its frame count, checksums, and salts when the WAL restarts; walformat.html), and the file is
 * shared memory that every connection on this machine maps, so a read of it sees the last commit.
 * `PRAGMA data_version` says the same (~10 µs: it starts a read transaction, two `fcntl` locks
 * and the header check). A read that overlaps a writer's update of the header sees bytes of
 * both, which differ from the last mark: at worst a kept read is read again. Where there is no
 * WAL-index file to read (an in-memory database), the pragma.
 */
function sqliteChangeMark(sqlite: SQLite.Database, file: string): { read(): string; close(): void } {
  const ownChanges = sqlite.prepare('select total_changes()').pluck();
  const dataVersion = sqlite.prepare('select data_version from pragma_data_version').pluck();
  const header = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  // The WAL-index file appears with the first transaction in WAL mode: opened on first use.
  const walMode = file !== ':memory:' && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  let shm: number | null = null;
  let closed = false;
  const fromPragma = () => `${String(ownChanges.get())}:${String(dataVersion.get())}`;
  return {
    read() {
      if (shm === null && walMode && !closed) {
        try {
          shm = fs.openSync(`${file}-shm`, 'r');
        } catch {
          shm = null;
        }
      }
      if (shm === null) return fromPragma();
      try {
        if (fs.readSync(shm, header, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES) return `${String(ownChanges.get())}:${header.toString('latin1')}`;
      } catch {
        // Unreadable now: the pragma, which cannot be wrong.
      }
      return fromPragma();
    },
    close() {
      if (shm !== null) fs.closeSync(shm);
      shm = null;
      closed = true;
    },
  };
}

/**
 * Kysely's SQLite transactions, but `BEGIN IMMEDIATE`: the write lock is taken before the first
 * read. On one connection it changes nothing. With another connection on the file (the
 * retention sweep's thread, src/consents/sweep-thread.ts; another process), a deferred
 * transaction that read before the other committed could not then write: SQLite answers
 * SQLITE_BUSY_SNAPSHOT at once, without waiting busy_timeout.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly dialectConfig: SqliteDialectConfig) {
    super(dialectConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.dialectConfig);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

interface QueuedWork {
  /** Synchronous work on the raw connection (`groupCommit`)… */
  work?: (sqlite: SQLite.Database) => unknown;
  /** …or Kysely queries on the one connection (`groupTransaction`). */
  body?: (trx: Kysely<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** See {@link FerryDatabase.groupCommit} and {@link FerryDatabase.groupTransaction}. */
function groupCommitter(sqlite: SQLite.Database, db: Kysely<Database>) {
  let queue: QueuedWork[] = [];
  let kept: { begin: SQLite.Statement; commit: SQLite.Statement; rollback: SQLite.Statement; savepoint: SQLite.Statement; release: SQLite.Statement; rollbackTo: SQLite.Statement } | undefined;
  // Kept statements: exec() would parse each of these anew, once per request.
  const statements = () =>
    (kept ??= {
      // IMMEDIATE takes the write lock up front (waiting busy_timeout for another process), so the
      // UPDATE … WHERE consumed_at IS NULL of a batch cannot fail to upgrade a read snapshot.
      begin: sqlite.prepare('begin immediate'),
      commit: sqlite.prepare('commit'),
      rollback: sqlite.prepare('rollback'),
      savepoint: sqlite.prepare('savepoint ferry_group_item'),
      release: sqlite.prepare('release ferry_group_item'),
      rollbackTo: sqlite.prepare('rollback to ferry_group_item'),
    });
  /** Answers every item of a batch: each its outcome once the COMMIT succeeded, all the error otherwise. */
  const settle = (batch: QueuedWork[], outcomes: Outcome[] | { error: unknown }) => {
    batch.forEach((item, i) => {
      if (!Array.isArray(outcomes)) return item.reject(outcomes.error);
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  };
  /** The batch's BEGIN IMMEDIATE; if it fails (the lock, or a connection closed meanwhile), every item gets the error. */
  const begin = (batch: QueuedWork[]) => {
    try {
      const s = statements();
      s.begin.run();
      return s;
    } catch (error) {
      settle(batch, { error });
      return undefined;
    }
  };
  const runBatch = (batch: QueuedWork[]) => {
    const s = begin(batch);
    if (s === undefined) return;
    const outcomes: Outcome[] = [];
    try {
      for (const item of batch) {
        s.savepoint.run();
        try {
          outcomes.push({ ok: true, value: item.work!(sqlite) });
          s.release.run();
        } catch (error) {
          // Undo this item's writes only; the others of the batch stay.
          s.rollbackTo.run();
          s.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      s.commit.run();
    } catch (error) {
      if (sqlite.inTransaction) s.rollback.run();
      return settle(batch, { error });
    }
    // Answer only now: every write of the batch is committed.
    settle(batch, outcomes);
  };
  /** A batch with Kysely transactions in it: the same, holding Kysely's one connection across their awaits. */
  const runAsyncBatch = async (batch: QueuedWork[], connection: Kysely<Database>) => {
    const s = begin(batch);
    if (s === undefined) return;
    const outcomes: Outcome[] = [];
    try {
      for (const item of batch) {
        s.savepoint.run();
        try {
          outcomes.push({ ok: true, value: item.work !== undefined ? item.work(sqlite) : await item.body!(connection) });
          s.release.run();
        } catch (error) {
          s.rollbackTo.run();
          s.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      s.commit.run();
    } catch (error) {
      if (sqlite.inTransaction) s.rollback.run();
      return settle(batch, { error });
    }
    settle(batch, outcomes);
  };
  const flush = () => {
    const batch = queue;
    queue = [];
    // A Kysely transaction holds the one connection across awaits: run after it, through Kysely's
    // lock on the connection, rather than inside it. So does a batch with Kysely work of its own.
    // Otherwise run now: the batch is synchronous, so nothing else can touch the connection meanwhile.
    const async = batch.some((item) => item.body !== undefined);
    if (async || sqlite.inTransaction) {
      db.connection()
        .execute(async (connection) => (async ? runAsyncBatch(batch, connection) : runBatch(batch)))
        .catch((error: unknown) => settle(batch, { error }));
    } else runBatch(batch);
  };
  const enqueue = (item: Omit<QueuedWork, 'resolve' | 'reject'>) =>
    new Promise<unknown>((resolve, reject) => {
      queue.push({ ...item, resolve, reject });
      // The first write schedules the batch GROUP_COMMIT_WINDOW_MS later, so the writes of the
      // requests that arrive meanwhile share the commit. (At the end of the turn only, batches
      // stayed small at moderate load: on the hosted-flow benchmark at 150 users/s, more commits
      // cost more CPU, which raised latency until the batches grew; with the window the same
      // load ran well below saturation. bench/RESULTS.md, issue 4.)
      if (queue.length === 1) setTimeout(flush, GROUP_COMMIT_WINDOW_MS);
    });
  return {
    groupCommit: <T>(work: (sqlite: SQLite.Database) => T) => enqueue({ work }) as Promise<T>,
    groupTransaction: <T>(body: (trx: Kysely<Database>) => Promise<T>) => enqueue({ body }) as Promise<T>,
  };
}

/** How long the first write of a group commit waits for others to join it (see groupCommitter). */
export const GROUP_COMMIT_WINDOW_MS = 2;

/** Rows to a SQLite write transaction: ~20 ms of writing at ~120,000 rows a second. */
const SQLITE_WRITE_CHUNK = 2000;
/** Rows to a PostgreSQL statement: one JSON parameter, so no limit of 65,535 parameters applies. */
const POSTGRES_WRITE_CHUNK = 2000;

function quoteName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a table or column name: ${name}`);
  return `"${name}"`;
}

/** Bulk writes through Kysely alone: any database, any instance (a transaction too). */
function kyselyBulkWrites(db: Kysely<any>): BulkWrites {
  return {
    async insert(table, rows, fence) {
      // 500 rows of ~20 columns stay under both databases' limits on parameters.
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        if (fence === undefined) {
          await db.insertInto(table).values(chunk).execute();
          continue;
        }
        const write = async (trx: Kysely<any>) => {
          const checked = await trx
            .updateTable(fence.table)
            .set((eb) => ({ [fence.column]: eb.ref(fence.column) }))
            .where('id', '=', fence.id)
            .where(fence.column, '=', fence.value)
            .executeTakeFirst();
          if (Number(checked.numUpdatedRows) !== 1) throw new WriteFenceLost(fence);
          await trx.insertInto(table).values(chunk).execute();
        };
        await (db.isTransaction ? write(db) : db.transaction().execute(write));
      }
    },
    async update(table, key, rows) {
      for (let i = 0; i < rows.length; i += 500) {
        await db.transaction().execute(async (trx) => {
          for (const { [key]: value, ...set } of rows.slice(i, i + 500)) await trx.updateTable(table).set(set).where(key, '=', value).execute();
        });
      }
    },
  };
}

const adapters = new WeakMap<Kysely<Database>, FerryDatabase>();

/** The adapter whose Kysely instance `db` is (undefined for a transaction or another instance). */
export function databaseOf(db: Kysely<Database>): FerryDatabase | undefined {
  return adapters.get(db);
}

/**
 * Inserts rows of one table (all with the same columns), each database its fastest way (see
 * `bulk` in openSqlite and openPostgres); through Kysely when `db` is not an adapter's own
 * instance (a transaction, say).
 */
export async function insertRows<T extends keyof Database & string>(db: Kysely<Database>, table: T, rows: ReadonlyArray<Insertable<Database[T]>>, fence?: WriteFence): Promise<void> {
  await (adapters.get(db)?.bulk ?? kyselyBulkWrites(db)).insert(table, rows as Rows, fence);
}

/** Updates rows of one table by a key column: each row's other columns are set where `key` matches. */
export async function updateRows<T extends keyof Database & string, K extends keyof Database[T] & string>(
  db: Kysely<Database>,
  table: T,
  key: K,
  rows: ReadonlyArray<Partial<Database[T]> & Pick<Database[T], K>>,
): Promise<void> {
  await (adapters.get(db)?.bulk ?? kyselyBulkWrites(db)).update(table, key, rows as Rows);
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

/** `(statement, row) => statement.run(row.a, row.b, …)`: named property reads and no array per row. */
function runWithRow(parameters: readonly string[]): (statement: SQLite.Statement, row: Readonly<Record<string, unknown>>) => void {
  for (const p of parameters) quoteName(p);
  return new Function('statement', 'row', `statement.run(${parameters.map((p) => `row.${p}`).join(', ')});`) as (statement: SQLite.Statement, row: Readonly<Record<string, unknown>>) => void;
}

/** A function that makes a row object of fixed shape from an array of column values. */
function rowConstructor(columns: readonly string[]): (values: unknown[]) => unknown {
  if (columns.includes('__proto__')) throw new Error('a prepared query may not name a column __proto__');
  // One object literal per shape: V8 gives every row the same hidden class.
  return new Function('v', `return { ${columns.map((c, i) => `${JSON.stringify(c)}: v[${i}]`).join(', ')} };`) as (values: unknown[]) => unknown;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

async function openPostgres(url: string, poolSize: number, schema?: string): Promise<Omit<FerryDatabase, 'opened'>> {
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
    // Keep idle connections (at most poolSize of them): pg-pool's idle timer is set and cleared
    // on every checkout, which cost more than the query itself (~25 µs of a ~17 µs round trip here).
    idleTimeoutMillis: 0,
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
  /**
   * Rows travel as one JSON parameter that PostgreSQL turns into rows of the table's own type
   * (json_populate_recordset): twice the rows a second of multi-row VALUES, whose every value is
   * a parameter to send, parse and bind.
   */
  const bulk: BulkWrites = {
    async insert(table, rows, fence) {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]!).map(quoteName).join(', ');
      const select = `select ${columns} from json_populate_recordset(null::${quoteName(table)}, $1)`;
      // Fenced: the check and the chunk are one statement, so one transaction (a data-modifying CTE).
      const text =
        fence === undefined
          ? `insert into ${quoteName(table)} (${columns}) ${select}`
          : `with fence as (${fenceCheckSql(fence, ['$2', '$3'])} returning 1) insert into ${quoteName(table)} (${columns}) ${select} where exists (select 1 from fence)`;
      for (let i = 0; i < rows.length; i += POSTGRES_WRITE_CHUNK) {
        const chunk = rows.slice(i, i + POSTGRES_WRITE_CHUNK);
        const result = await pool.query(text, fence === undefined ? [JSON.stringify(chunk)] : [JSON.stringify(chunk), fence.id, fence.value]);
        if (fence !== undefined && result.rowCount !== chunk.length) throw new WriteFenceLost(fence);
      }
    },
    async update(table, key, rows) {
      if (rows.length === 0) return;
      const set = Object.keys(rows[0]!)
        .filter((c) => c !== key)
        .map((c) => `${quoteName(c)} = r.${quoteName(c)}`)
        .join(', ');
      const text = `update ${quoteName(table)} as t set ${set} from json_populate_recordset(null::${quoteName(table)}, $1) as r where t.${quoteName(key)} = r.${quoteName(key)}`;
      for (let i = 0; i < rows.length; i += POSTGRES_WRITE_CHUNK) await pool.query(text, [JSON.stringify(rows.slice(i, i + POSTGRES_WRITE_CHUNK))]);
    },
  };
  return {
    db,
    bulk,
    capabilities: { dialect: 'postgres', supportsSkipLocked: true, multiHost: true },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async runPrepared<Row>(query: PreparedSql, parameters: readonly unknown[]): Promise<Row[]> {
      // A named statement: each pooled connection parses it once, and plans it once it has seen
      // that a generic plan does as well (PostgreSQL's plan cache).
      const result = await pool.query({ name: query.name, text: query.sql, values: parameters as unknown[] });
      return result.rows as Row[];
    },
    async runPreparedWrite(query: PreparedSql, parameters: readonly unknown[]): Promise<number> {
      const result = await pool.query({ name: query.name, text: query.sql, values: parameters as unknown[] });
      return result.rowCount ?? 0;
    },
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; prepared queries use the pool directly.
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * A query built with Kysely once and compiled with placeholders: each run fills them in and goes
 * to {@link FerryDatabase.runPrepared}, without building, compiling or preparing anything. `build`
 * gets `param(name)`, a stand-in value that Kysely compiles to a placeholder; the row type is the
 * one Kysely infers. Name the columns (no `selectAll()`): rows are read by position.
 */
export interface PreparedQuery<Params, Row> {
  all(params: Params): Promise<Row[]>;
  first(params: Params): Promise<Row | undefined>;
  /** For an INSERT, UPDATE or DELETE without RETURNING: runs it ({@link FerryDatabase.runPreparedWrite}) and says how many rows it changed. */
  write(params: Params): Promise<number>;
}

/** `param('name')` in a prepared query's builder: a stand-in of the parameter's type. */
export type QueryParam<Params> = <K extends keyof Params & string>(name: K) => Params[K];

class QueryParameter {
  constructor(readonly name: string) {}
}

export function prepareQuery<Params extends Record<string, unknown>, Query extends Compilable<any>>(
  database: FerryDatabase,
  build: (db: Kysely<Database>, param: QueryParam<Params>) => Query,
): PreparedQuery<Params, InferResult<Query>[number]> {
  type Row = InferResult<Query>[number];
  const named = new Set<string>();
  const compiled = build(database.db, (name) => {
    named.add(name);
    return new QueryParameter(name) as never;
  }).compile();
  if (/^\s*select\s+\*|\.\*/i.test(compiled.sql)) throw new Error(`a prepared query must name its columns: ${compiled.sql}`);
  type Slot = { name: string } | { value: unknown };
  const slots = compiled.parameters.map((value): Slot => (value instanceof QueryParameter ? { name: value.name } : { value }));
  for (const name of named) {
    if (!slots.some((slot) => 'name' in slot && slot.name === name)) throw new Error(`parameter ${name} did not compile to a placeholder: ${compiled.sql}`);
  }
  const query = preparedSql(compiled.sql);
  const parametersOf = (params: Params) => slots.map((slot) => ('name' in slot ? params[slot.name] : slot.value));
  return {
    all: (params) => database.runPrepared<Row>(query, parametersOf(params)),
    first: async (params) => (await database.runPrepared<Row>(query, parametersOf(params)))[0],
    write: (params) => database.runPreparedWrite(query, parametersOf(params)),
  };
}

/**
 * A write transaction on `db`. On SQLite it joins the group commit: the transactions (and small
 * writes) of the requests of the same few milliseconds (GROUP_COMMIT_WINDOW_MS) share one `BEGIN IMMEDIATE … COMMIT`,
 * each in its own SAVEPOINT, and each promise settles after the COMMIT; a body that throws rolls
 * back alone. A commit costs more than the few writes of a request (every page touched goes to
 * the WAL), so sharing it is most of the saving. The body must not wait on anything but its own
 * queries (the batch holds the one connection), nor start another transaction. On PostgreSQL,
 * Kysely's own transaction; inside a transaction already, the body runs in it.
 */
export function transact<T>(db: Kysely<Database>, body: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return body(db);
  const groupTransaction = adapters.get(db)?.groupTransaction;
  if (groupTransaction !== undefined) return groupTransaction(body);
  return db.transaction().execute(body);
}

/**
 * {@link prepareQuery} for code handed a Kysely instance: when `db` is an adapter's own instance,
 * the query compiled once for that database under `key` (one key per shape of query); undefined
 * for a transaction or another instance, which should run the query through Kysely.
 */
export function preparedFor<Params extends Record<string, unknown>, Query extends Compilable<any>>(
  db: Kysely<Database>,
  key: string,
  build: (kysely: Kysely<Database>, param: QueryParam<Params>) => Query,
): PreparedQuery<Params, InferResult<Query>[number]> | undefined {
  const database = adapters.get(db);
  if (database === undefined) return undefined;
  let queries = preparedByKey.get(database);
  if (queries === undefined) preparedByKey.set(database, (queries = new Map()));
  let query = queries.get(key) as PreparedQuery<Params, InferResult<Query>[number]> | undefined;
  if (query === undefined) {
    query = prepareQuery(database, build);
    queries.set(key, query as PreparedQuery<never, unknown>);
  }
  return query;
}

const preparedByKey = new WeakMap<FerryDatabase, Map<string, PreparedQuery<never, unknown>>>();

/**
 * SQL written by hand for {@link FerryDatabase.runPrepared}, for what Kysely cannot build or
 * compile without a database (PostgreSQL's data-modifying CTEs, say). Placeholders are the
 * database's own (`?` or `$1`).
 */
export function preparedSql(text: string): PreparedSql {
  return { sql: text, name: `ferry_${createHash('sha256').update(text).digest('hex').slice(0, 24)}` };
}

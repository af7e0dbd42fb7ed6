/**
 * Retention benchmark (issue 6): erase 10,000 expired one-time consents holding a million
 * transactions in all, while an app reads the data API of a live consent.
 *
 * Per dialect (a fresh SQLite file, WAL; a fresh PostgreSQL database `ferry_bench_retention_<pid>`):
 *   1. seed: a few one-time consents made as the hosted flow makes them (sandbox bank, first sync),
 *      cloned --consents times with fresh ids and --transactions transactions in all
 *      (bench/retention/seed.ts), deadline tomorrow; and one live regular consent, synced;
 *   2. `node bin/ferry.js start` on that database (the job runner and its retention sweeper as in
 *      production); autocannon reads `GET /v1/accounts/{id}/transactions?pageSize=50` of the live
 *      consent at --connections connections for the whole run:
 *        --warmup seconds, then --duration seconds alone (the unloaded rate), then
 *   3. the deadline of the seeded consents passes (one UPDATE) and the sweep is brought forward
 *      (`scheduleSweep`, as a sweep does for the next deadline); the run lasts until none of them is
 *      left. The erasure's window runs from the first batch (the receipts' erased_at) to then; the
 *      data API rate counts the 200s completed inside it, the erasure rate is the receipts'
 *      transactions over it;
 *   4. checks: nothing of the seeded consents left, a receipt with row counts and a DataDeleted
 *      event for each, every answer a 200; on SQLite, the bytes of the seeded users' names are
 *      gone from the database file and its WAL (secure_delete).
 *
 *   npx tsx bench/retention/run.ts [--dialects sqlite,postgres] [--consents 10000] [--transactions 1000000]
 *                                  [--connections 50] [--warmup 3] [--duration 10] [--quiet-wait 60] [--no-write]
 *   npx tsx bench/retention/run.ts --part raw [--busy-share 1] [--secure-delete-off] [--cache-mb 64]
 *     the sweep alone, in this process, for experiments (SQLite: without secure_delete, with a bigger page cache;
 *     --profile writes a CPU profile of the sweep to bench/out/retention/)
 *   --random-ids (either part): an experiment, the seeded transactions' ids random UUIDs (as Ferry made
 *     them before) rather than time-ordered as src/data/sync.ts makes them (bench/retention/seed.ts `IdOrder`)
 *
 * Bounded: at most --max-sweep seconds (120) of sweep per dialect; the seeding takes about a minute
 * per dialect. Writes its block into bench/RESULTS.md ("Retention (issue 6)").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { systemClock } from '../../src/clock.js';
import type { DatabaseConfig } from '../../src/config.js';
import { scheduleSweep, sweepExpiredConsents, type SweepReport } from '../../src/consents/retention.js';
import { openDatabase, type FerryDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { cpuSeconds, createDatabase, dropDatabase, freePort, machineTicks, POSTGRES_ADMIN_URL, sleep, waitForQuiet } from '../lib/ferry-cluster.js';
import { connectConsent, createBenchServer, runJobs, type Dialect } from '../data/setup.js';
import { makeTemplates, personalValues, seedConsents, type SeedReport } from './seed.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md');
const SECTION_TITLE = '## Retention (issue 6)';
const BEGIN = '<!-- bench/retention/run.ts: begin -->';
const END = '<!-- bench/retention/run.ts: end -->';

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    dialects: { type: 'string', default: 'sqlite,postgres' },
    part: { type: 'string', default: 'api' },
    consents: { type: 'string', default: '10000' },
    transactions: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    'quiet-wait': { type: 'string', default: '60' },
    'max-sweep': { type: 'string', default: '120' },
    'busy-share': { type: 'string' },
    'secure-delete-off': { type: 'boolean', default: false },
    'cache-mb': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'random-ids': { type: 'boolean', default: false },
    write: { type: 'boolean', default: true },
  },
});
const DIALECTS = args.dialects.split(',').map((d) => d.trim()) as Dialect[];
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown dialect ${d}`);
const CONSENTS = Number(args.consents);
const TRANSACTIONS = Number(args.transactions);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
const DURATION = Number(args.duration);
const QUIET_WAIT_S = Number(args['quiet-wait']);
const MAX_SWEEP_S = Number(args['max-sweep']);
if (WARMUP + DURATION + MAX_SWEEP_S > 300) throw new Error('bounded to 300 s of load per dialect: shorten --warmup, --duration or --max-sweep');
const TARGET_RATE = 100_000;
const TARGET_API_SHARE = 0.8;

// autocannon ships no types; this is the part of its API used here.
interface AutocannonTracker {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
  stop(): void;
}
type Autocannon = (options: Record<string, unknown>, callback: (error: Error | null, result: { errors: number; timeouts: number }) => void) => AutocannonTracker;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');

// ---------------------------------------------------------------- databases

interface BenchDb {
  config: DatabaseConfig;
  env: Record<string, string>;
  /** PostgreSQL: the database's name (its backends are counted by datname). */
  name: string | null;
  /** SQLite: the file. */
  file: string | null;
  drop(): Promise<void>;
}

async function createBenchDb(dialect: Dialect): Promise<BenchDb> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-retention-'));
    const file = path.join(dir, 'ferry.sqlite');
    return { config: { dialect, file }, env: { FERRY_DB_FILE: file }, name: null, file, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `ferry_bench_retention_${process.pid}`;
  const url = await createDatabase(name);
  return { config: { dialect, url, poolSize: 10 }, env: { DATABASE_URL: url }, name, file: null, drop: () => dropDatabase(name) };
}

interface Seeded {
  seed: SeedReport;
  /** Values only the seeded consents hold (bank user references, IBANs). */
  personal: string[];
  accessToken: string;
  liveConsentId: string;
  transactionsPath: string;
}

/**
 * SQLite: the whole WAL copied into the file and the WAL emptied before the measured runs. A
 * TRUNCATE checkpoint that meets another checkpoint under way (the connection's checkpointer
 * thread, src/db/checkpointer.ts) says busy and does nothing, without an error: once, a run
 * started with the seed's 545 MB still in the WAL, and the checkpointer copied it during the
 * measured sweep. So the result is read, and the checkpoint tried again until it has done it.
 */
async function checkpointFully(database: FerryDatabase): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { rows } = await sql<{ busy: number; log: number; checkpointed: number }>`pragma wal_checkpoint(truncate)`.execute(database.db);
    const result = rows[0];
    if (result !== undefined && result.busy === 0 && result.log <= 0) return;
    if (Date.now() > deadline) throw new Error(`the seeded database's WAL could not be checkpointed: ${JSON.stringify(result)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Migrates, connects the live consent and the templates through an in-process Ferry, seeds the clones. */
async function prepare(bench: BenchDb, database: FerryDatabase, deleteAt: number): Promise<Seeded> {
  await migrateOrThrow(database);
  const server = await createBenchServer(database, bench.config, 'http://127.0.0.1:1');
  try {
    log(`  connecting the live consent and the template users (sandbox bank, first sync)`);
    const live = await connectConsent(server, 'benchmark');
    await runJobs(server);
    const templates = await makeTemplates(server);
    log(`  seeding ${fmt(CONSENTS)} one-time consents with ${fmt(TRANSACTIONS)} transactions`);
    const seed = await seedConsents(database.db, templates, CONSENTS, TRANSACTIONS, deleteAt, args['random-ids'] ? 'random' : 'ferry');
    log(`  seeded in ${fmt(seed.seconds, 1)} s (${fmt(seed.transactions / seed.seconds)} transactions/s)`);
    const account = await database.db.selectFrom('accounts').select('id').where('consent_id', '=', live.consentId).orderBy('position').executeTakeFirstOrThrow();
    // As the database would be a day later: checkpointed (SQLite), vacuumed and analysed (PostgreSQL's autovacuum).
    if (database.capabilities.dialect === 'sqlite') await checkpointFully(database);
    else await sql`vacuum analyze`.execute(database.db);
    return { seed, personal: personalValues(templates), accessToken: live.accessToken, liveConsentId: live.consentId, transactionsPath: `/v1/accounts/${account.id}/transactions?pageSize=50` };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------- CPU

interface CpuSample {
  at: number;
  ferry: number;
  postgres: Map<number, number>;
  self: number;
  machine: { busy: number; total: number };
}

async function postgresPids(admin: pg.Client | null, name: string | null): Promise<number[]> {
  if (admin === null || name === null) return [];
  const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
  return rows.map((r) => r.pid);
}

async function cpuSample(pid: number, admin: pg.Client | null, name: string | null): Promise<CpuSample> {
  const postgres = new Map<number, number>();
  for (const p of await postgresPids(admin, name)) {
    const s = cpuSeconds(p);
    if (s !== null) postgres.set(p, s);
  }
  const self = process.cpuUsage();
  return { at: Date.now(), ferry: cpuSeconds(pid) ?? Number.NaN, postgres, self: (self.user + self.system) / 1e6, machine: machineTicks() };
}

interface CpuUse {
  ferry: number;
  postgres: number;
  loadGenerator: number;
  other: number;
}

/** % of one core between two samples. */
function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  let pgSeconds = 0;
  // A backend first seen in b connected after a (the sweep's own thread opens its pool when the
  // sweep starts): all its CPU time is since then.
  for (const [pid, s] of b.postgres) pgSeconds += s - (a.postgres.get(pid) ?? 0);
  const machine = ((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * os.cpus().length * 100;
  const ferry = ((b.ferry - a.ferry) / seconds) * 100;
  const postgres = (pgSeconds / seconds) * 100;
  const loadGenerator = ((b.self - a.self) / seconds) * 100;
  return { ferry, postgres, loadGenerator, other: Math.max(0, machine - ferry - postgres - loadGenerator) };
}

/** The samples nearest inside [from, to]. */
function cpuIn(samples: CpuSample[], from: number, to: number): CpuUse | null {
  const inside = samples.filter((s) => s.at >= from - 150 && s.at <= to + 150);
  return inside.length < 2 ? null : cpuBetween(inside[0]!, inside.at(-1)!);
}

// ---------------------------------------------------------------- the run

interface Window {
  seconds: number;
  ok: number;
  rate: number;
  p50: number;
  p99: number;
}

/** What the sweeps erased, from the receipts, and when. */
interface Erasure {
  erased: number;
  rows: Record<string, number>;
  startedAt: number;
  durationMs: number;
  /** Sweep reports seen while polling (a sweep stops starting batches after SWEEP_MAX_MS). */
  sweeps: number;
}

interface DialectResult {
  dialect: Dialect;
  seed: SeedReport;
  unloaded: Window;
  during: Window;
  report: Erasure;
  cpuUnloaded: CpuUse | null;
  cpuSweep: CpuUse | null;
  failures: number;
  checks: string[];
  problems: string[];
  sizes: string;
  waitedForSweepMs: number;
  busyBefore: number;
}

function windowOf(times: number[], latencies: number[], from: number, to: number): Window {
  const inside: number[] = [];
  for (let i = 0; i < times.length; i++) if (times[i]! >= from && times[i]! < to) inside.push(latencies[i]!);
  inside.sort((a, b) => a - b);
  const seconds = (to - from) / 1000;
  const pct = (p: number) => (inside.length === 0 ? Number.NaN : inside[Math.min(inside.length - 1, Math.ceil((p / 100) * inside.length) - 1)]!);
  return { seconds, ok: inside.length, rate: inside.length / seconds, p50: pct(50), p99: pct(99) };
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ferry exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Occurrences of each needle in the SQLite file and its WAL (read in chunks: either may pass 2 GB). */
function bytesIn(file: string, needles: string[]): number {
  const patterns = needles.map((n) => Buffer.from(n));
  const overlap = Math.max(0, ...patterns.map((p) => p.length - 1));
  const CHUNK = 64 * 2 ** 20;
  let count = 0;
  for (const f of [file, `${file}-wal`]) {
    if (!fs.existsSync(f)) continue;
    const fd = fs.openSync(f, 'r');
    try {
      const buffer = Buffer.alloc(CHUNK + overlap);
      let kept = 0;
      for (;;) {
        const read = fs.readSync(fd, buffer, kept, CHUNK, null);
        if (read === 0) break;
        const data = buffer.subarray(0, kept + read);
        // Count matches that start in this chunk's new bytes or in the kept tail not yet searched whole.
        for (const n of patterns) {
          for (let at = data.indexOf(n); at !== -1; at = data.indexOf(n, at + 1)) if (at + n.length > kept) count++;
        }
        kept = Math.min(overlap, data.length);
        data.copy(buffer, 0, data.length - kept);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return count;
}

function fileMb(file: string): string {
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return `${fmt(size(file) / 2 ** 20)} MB file, ${fmt(size(`${file}-wal`) / 2 ** 20)} MB WAL`;
}

async function runApi(dialect: Dialect): Promise<DialectResult> {
  log(`${dialect}: preparing`);
  const bench = await createBenchDb(dialect);
  let child: ChildProcess | null = null;
  let admin: pg.Client | null = null;
  let database: FerryDatabase | null = null;
  try {
    database = await openDatabase(bench.config);
    const seeded = await prepare(bench, database, systemClock.now() + 24 * 3600_000);
    const checks: string[] = [];
    let sizes = '';
    if (bench.file !== null) {
      const before = bytesIn(bench.file, seeded.personal);
      checks.push(`the seeded consents' ${seeded.personal.length} bank user references and IBANs in the SQLite file before the sweep: ${fmt(before)} occurrences`);
      sizes = `before the sweep ${fileMb(bench.file)}`;
    } else {
      const { rows } = await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(database.db);
      sizes = `before the sweep ${fmt(Number(rows[0]!.size) / 2 ** 20)} MB`;
    }
    // The child has the database to itself, but for the bench's own small queries below.
    await database.close();
    database = await openDatabase(dialect === 'postgres' ? { ...bench.config, poolSize: 2 } as DatabaseConfig : bench.config);
    if (bench.name !== null) {
      admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await admin.connect();
    }

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(ROOT, 'bin', 'ferry.js'), 'start'], {
      cwd: ROOT,
      // As bench/data/run.ts runs it: logs to /dev/null (written, not kept).
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...bench.env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base, FERRY_DEMO: 'false', FERRY_RATE_LIMITS: 'false' },
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(`  [ferry ${dialect}] ${line}`);
    });
    await waitForHttp(`${base}/readyz`, child);
    const headers = { authorization: `Bearer ${seeded.accessToken}` };
    const first = await fetch(`${base}${seeded.transactionsPath}`, { headers });
    const page = (await first.json()) as { transactions?: unknown[] };
    if (first.status !== 200 || page.transactions?.length !== 50) throw new Error(`the live consent's page answered ${first.status} with ${page.transactions?.length} transactions`);

    const busyBefore = QUIET_WAIT_S > 0 ? await waitForQuiet(QUIET_WAIT_S * 1000) : Number.NaN;
    log(`${dialect}: machine busy before the run: ${fmt(busyBefore)} % of a core; autocannon ${CONNECTIONS} connections on ${seeded.transactionsPath}`);

    const times: number[] = [];
    const latencies: number[] = [];
    let failures = 0;
    let tracker!: AutocannonTracker;
    const finished = new Promise<{ errors: number; timeouts: number }>((resolve, reject) => {
      tracker = autocannon({ url: `${base}${seeded.transactionsPath}`, connections: CONNECTIONS, duration: WARMUP + DURATION + MAX_SWEEP_S + 30, headers, timeout: 10 }, (error, result) =>
        error ? reject(error) : resolve(result),
      );
    });
    tracker.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) {
        times.push(Date.now());
        latencies.push(responseTime);
      } else failures++;
    });
    const samples: CpuSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await cpuSample(child!.pid!, admin, bench.name));
        await sleep(250);
      }
    })();

    await sleep(WARMUP * 1000);
    const unloadedFrom = Date.now();
    await sleep(DURATION * 1000);
    const unloadedTo = Date.now();

    // The deadline passes for every seeded consent; the sweep is brought forward to now.
    const expireAt = systemClock.now();
    await database.db.updateTable('consents').set({ delete_at: expireAt }).where('one_time', '=', 1).execute();
    await scheduleSweep(database.db, expireAt, expireAt);
    log(`${dialect}: ${fmt(CONSENTS)} consents past their deadline; waiting for the sweep`);
    // Until no seeded consent is left (one sweep or several: a sweep stops starting batches after
    // SWEEP_MAX_MS and the next one follows at once), noting each sweep's report as it appears.
    const sweeps = new Map<number, SweepReport>();
    let erasedAt: number | null = null;
    while (Date.now() - expireAt < MAX_SWEEP_S * 1000) {
      await sleep(100);
      const row = await database.db.selectFrom('settings').select('value').where('key', '=', 'retention:last-sweep').executeTakeFirst();
      const seen = row === undefined ? null : (JSON.parse(row.value) as SweepReport);
      if (seen !== null && seen.startedAt >= expireAt && seen.erased > 0) sweeps.set(seen.startedAt, seen);
      const left = await database.db.selectFrom('consents').select((eb) => eb.fn.countAll<number>().as('n')).where('delete_at', '<=', expireAt).executeTakeFirstOrThrow();
      if (Number(left.n) === 0) {
        erasedAt = Date.now();
        break;
      }
    }
    // The last sweep's report is written after its housekeeping: give it a moment to appear.
    for (let i = 0; i < 20; i++) {
      const row = await database.db.selectFrom('settings').select('value').where('key', '=', 'retention:last-sweep').executeTakeFirst();
      const seen = row === undefined ? null : (JSON.parse(row.value) as SweepReport);
      if (seen !== null && seen.startedAt >= expireAt && seen.erased > 0) sweeps.set(seen.startedAt, seen);
      if (erasedAt === null || (seen !== null && seen.startedAt + seen.durationMs >= erasedAt - 200)) break;
      await sleep(100);
    }
    tracker.stop();
    const result = await finished;
    sampling = false;
    await sampler;
    const problems: string[] = [];
    if (erasedAt === null) {
      // Bounded: report what was erased by then.
      problems.push(`the seeded consents were not all erased within --max-sweep ${MAX_SWEEP_S} s`);
      erasedAt = Date.now();
    }
    failures += result.errors + result.timeouts;

    // The erasure's window: from the first batch (its receipts' erased_at is the batch's start) to
    // the moment none was left (polled every 100 ms).
    const receiptRows = await database.db.selectFrom('deletion_receipts').select(['row_counts', 'erased_at']).where('reason', '=', 'OneTimeRetention').execute();
    const rows: Record<string, number> = {};
    for (const r of receiptRows) for (const [table, n] of Object.entries(JSON.parse(r.row_counts) as Record<string, number>)) rows[table] = (rows[table] ?? 0) + n;
    const sweepFrom = Math.min(...receiptRows.map((r) => Number(r.erased_at)));
    const sweepTo: number = erasedAt;
    const report: Erasure = { erased: receiptRows.length, rows, startedAt: sweepFrom, durationMs: sweepTo - sweepFrom, sweeps: sweeps.size };
    const unloaded = windowOf(times, latencies, unloadedFrom, unloadedTo);
    const during = windowOf(times, latencies, sweepFrom, sweepTo);
    log(`${dialect}: sweep erased ${fmt(report.erased)} consents, ${fmt(report.rows.transactions ?? 0)} transactions in ${fmt(report.durationMs)} ms; data API ${fmt(unloaded.rate)}/s alone, ${fmt(during.rate)}/s during the sweep`);

    // Checks: what is left of the seeded consents, and what the sweep left behind.
    const db = database.db;
    const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
    const left = await count(db.selectFrom('consents').select((eb) => eb.fn.countAll<number>().as('n')).where('one_time', '=', 1).executeTakeFirst());
    const leftTx = await count(db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n')).where('consent_id', '!=', seeded.liveConsentId).executeTakeFirst());
    const receipts = receiptRows;
    const receiptTx = rows.transactions ?? 0;
    const deletedEvents = await count(db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('event', '=', 'DataDeleted').executeTakeFirst());
    const liveTx = await count(db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n')).where('consent_id', '=', seeded.liveConsentId).executeTakeFirst());
    checks.push(`left after the sweep: ${fmt(left)} one-time consents, ${fmt(leftTx)} of their transactions; ${fmt(receipts.length)} receipts counting ${fmt(receiptTx)} transactions; ${fmt(deletedEvents)} DataDeleted events; the live consent keeps its ${fmt(liveTx)} transactions`);
    if (left !== 0 || leftTx !== 0) problems.push(`${left} consents and ${leftTx} transactions were left`);
    if (receipts.length !== CONSENTS || receiptTx !== seeded.seed.transactions) problems.push(`receipts: ${receipts.length} counting ${receiptTx} transactions`);
    if (deletedEvents !== CONSENTS) problems.push(`${deletedEvents} DataDeleted events`);
    if (failures > 0) problems.push(`${failures} data API answers were not 200`);
    if (bench.file !== null) {
      await database.close();
      database = null;
      await stopChild(child);
      child = null;
      const after = bytesIn(bench.file, seeded.personal);
      checks.push(`after the sweep, in the file and its WAL (secure_delete): ${fmt(after)}`);
      if (after !== 0) problems.push(`${after} copies of the seeded consents' personal values are still in the SQLite file`);
      sizes += `; after ${fileMb(bench.file)}`;
    } else {
      const { rows } = await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(db);
      sizes += `; after ${fmt(Number(rows[0]!.size) / 2 ** 20)} MB (dead rows until (auto)vacuum)`;
    }
    return {
      dialect,
      seed: seeded.seed,
      unloaded,
      during,
      report,
      cpuUnloaded: cpuIn(samples, unloadedFrom, unloadedTo),
      cpuSweep: cpuIn(samples, sweepFrom, sweepTo),
      failures,
      checks,
      problems,
      sizes,
      waitedForSweepMs: report.startedAt - expireAt,
      busyBefore,
    };
  } finally {
    if (child !== null) await stopChild(child);
    if (database !== null) await database.close();
    if (admin !== null) await admin.end();
    await bench.drop();
  }
}

// ---------------------------------------------------------------- the sweep alone

interface RawResult {
  dialect: Dialect;
  seed: SeedReport;
  report: SweepReport;
  busyShare: number | undefined;
  secureDelete: boolean;
}

/** The sweep alone in this process (no HTTP): the erasure's own speed, for experiments. */
async function runRaw(dialect: Dialect): Promise<RawResult> {
  const bench = await createBenchDb(dialect);
  const database = await openDatabase(bench.config);
  try {
    const { seed } = await prepare(bench, database, systemClock.now() + 24 * 3600_000);
    const secureDelete = !(dialect === 'sqlite' && args['secure-delete-off']);
    if (!secureDelete) await sql`pragma secure_delete = off`.execute(database.db);
    if (dialect === 'sqlite' && args['cache-mb'] !== undefined) await sql.raw(`pragma cache_size = -${Number(args['cache-mb']) * 1024}`).execute(database.db);
    await waitForQuiet(QUIET_WAIT_S * 1000);
    const now = systemClock.now();
    await database.db.updateTable('consents').set({ delete_at: now }).where('one_time', '=', 1).execute();
    const busyShare = args['busy-share'] === undefined ? undefined : Number(args['busy-share']);
    const admin = bench.name === null ? null : new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin?.connect();
    const before = await cpuSample(process.pid, admin, bench.name);
    const profiler = args.profile ? await startProfile() : null;
    const report = await sweepExpiredConsents({ db: database.db, capabilities: database.capabilities, clock: systemClock }, 100_000, busyShare === undefined ? {} : { busyShare });
    const cpu = cpuBetween(before, await cpuSample(process.pid, admin, bench.name));
    if (profiler !== null) log(`  profile of the sweep: ${await profiler.stop(dialect)}`);
    await admin?.end();
    const cpuSeconds = ((cpu.ferry + cpu.postgres) / 100) * (report.durationMs / 1000);
    log(`${dialect} raw: ${fmt(report.erased)} consents, ${fmt(report.rows.transactions ?? 0)} transactions in ${fmt(report.durationMs)} ms: ${fmt(((report.rows.transactions ?? 0) / report.durationMs) * 1000)} transactions/s; CPU: this process ${fmt(cpu.ferry)} %, PostgreSQL ${fmt(cpu.postgres)} %, other ${fmt(cpu.other)} % → ${fmt((report.rows.transactions ?? 0) / cpuSeconds)} transactions per CPU second (busy share ${busyShare ?? 'default'}, secure_delete ${secureDelete ? 'on' : 'off'}, cache ${args['cache-mb'] ?? 'default'} MB; seeded in ${fmt(seed.seconds, 1)} s)`);
    return { dialect, seed, report, busyShare, secureDelete };
  } finally {
    await database.close();
    await bench.drop();
  }
}

/** A V8 CPU profile of this process from now until stop() (summarise with bench/data/profile-summary.ts). */
async function startProfile(): Promise<{ stop(name: string): Promise<string> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      const file = path.join(ROOT, 'bench', 'out', 'retention', `sweep-${name}-${Date.now()}.cpuprofile`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(profile));
      return path.relative(ROOT, file);
    },
  };
}

// ---------------------------------------------------------------- results

function cpuText(c: CpuUse | null): string {
  return c === null ? '–' : `Ferry ${fmt(c.ferry)} %, PostgreSQL ${fmt(c.postgres)} %, autocannon ${fmt(c.loadGenerator)} %, other work ${fmt(c.other)} %`;
}

function markdown(results: DialectResult[]): string {
  const rate = (r: DialectResult) => ((r.report.rows.transactions ?? 0) / r.report.durationMs) * 1000;
  const share = (r: DialectResult) => r.during.rate / r.unloaded.rate;
  const lines = [
    '### Erasing 10,000 expired one-time consents under data API load',
    '',
    `    npx tsx bench/retention/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, PostgreSQL on the same machine. ` +
      `Everything shares the 2 cores: Ferry, PostgreSQL, autocannon, and other work on the machine (the run waits up to ${QUIET_WAIT_S} s for a quiet moment first; "other work" says what ran alongside).`,
    '',
    `Seeded per database: ${fmt(CONSENTS)} one-time consents cloned from 4 sandbox-bank users connected through the flow and synced (TestDataBank1, the bank's own rows), ` +
      `${fmt(TRANSACTIONS)} transactions in all, with each consent's connection, accounts, grant, refresh token, code, flow session, jobs and events; one live regular consent read by the app. ` +
      `\`node bin/ferry.js start\` serves the data API and runs the retention sweep as its durable job; autocannon (${CONNECTIONS} connections) reads one page (50) of the live consent's transactions ` +
      `for ${WARMUP} s of warm-up, ${DURATION} s alone, then through the sweep (the deadlines of the seeded consents pass in one UPDATE and the sweep is brought forward).`,
    '',
    '| database | seeded rows | erased | sweep s | transactions erased/s | target ≥ 100,000/s | data API alone /s (p50 / p99 ms) | during the sweep /s (p50 / p99 ms) | share | target ≥ 80 % |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const seededRows = Object.values(r.seed.rows).reduce((a, b) => a + b, 0);
    lines.push(
      `| ${r.dialect === 'sqlite' ? 'SQLite (file, WAL, secure_delete)' : 'PostgreSQL'}${args['random-ids'] ? ', random transaction ids (experiment)' : ''} | ${fmt(seededRows)} | ${fmt(r.report.erased)} consents, ${fmt(r.report.rows.transactions ?? 0)} transactions | ${fmt(r.report.durationMs / 1000, 1)} | ${fmt(rate(r))} | ${rate(r) >= TARGET_RATE ? 'met' : 'missed'} | ` +
        `${fmt(r.unloaded.rate)} (${fmt(r.unloaded.p50)} / ${fmt(r.unloaded.p99)}) | ${fmt(r.during.rate)} (${fmt(r.during.p50)} / ${fmt(r.during.p99)}) | ${fmt(share(r) * 100)} % | ${share(r) >= TARGET_API_SHARE ? 'met' : 'missed'} |`,
    );
  }
  lines.push('');
  for (const r of results) {
    lines.push(`**${r.dialect}**: seeded in ${fmt(r.seed.seconds, 1)} s (${Object.entries(r.seed.rows).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}); template users had ${r.seed.templateTransactions.map((n) => fmt(n)).join(', ')} transactions.`);
    lines.push(`The first batch started ${fmt(r.waitedForSweepMs)} ms after the deadlines passed (the job runner's poll); sweeps reported: ${r.report.sweeps}; rows erased: ${Object.entries(r.report.rows).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}.`);
    lines.push(`CPU in % of one core, alone: ${cpuText(r.cpuUnloaded)}; during the sweep: ${cpuText(r.cpuSweep)}. Machine busy before the run: ${fmt(r.busyBefore)} % of a core.`);
    lines.push(`Size: ${r.sizes}. Checks: ${r.checks.join('; ')}.${r.problems.length > 0 ? ` **Problems: ${r.problems.join('; ')}.**` : ''}`);
    lines.push('');
  }
  return lines.join('\n');
}

function writeResults(text: string): void {
  const block = `${BEGIN}\n${text.trim()}\n${END}`;
  let current = fs.readFileSync(RESULTS_FILE, 'utf8');
  const b = current.indexOf(BEGIN);
  const e = current.indexOf(END);
  if (b !== -1 && e > b) current = `${current.slice(0, b)}${block}${current.slice(e + END.length)}`;
  else {
    let at = current.indexOf(`${SECTION_TITLE}\n`);
    if (at === -1) {
      current = `${current.trimEnd()}\n\n${SECTION_TITLE}\n`;
      at = current.indexOf(`${SECTION_TITLE}\n`);
    }
    const next = current.indexOf('\n## ', at + SECTION_TITLE.length);
    const cut = next === -1 ? current.length : next + 1;
    current = `${current.slice(0, cut).trimEnd()}\n\n${block}\n${next === -1 ? '' : `\n${current.slice(cut)}`}`;
  }
  fs.writeFileSync(RESULTS_FILE, current);
}

if (args.part === 'raw') {
  for (const dialect of DIALECTS) await runRaw(dialect);
} else {
  const results: DialectResult[] = [];
  for (const dialect of DIALECTS) results.push(await runApi(dialect));
  const text = markdown(results);
  process.stdout.write(`${text}\n`);
  if (args.write) writeResults(text);
  const missed = results.some((r) => r.problems.length > 0 || ((r.report.rows.transactions ?? 0) / r.report.durationMs) * 1000 < TARGET_RATE || r.during.rate / r.unloaded.rate < TARGET_API_SHARE);
  process.exitCode = missed ? 1 : 0;
}

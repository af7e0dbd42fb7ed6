/**
 * Data API benchmark (issue #5), in one run, over loopback:
 *
 *   HTTP  `GET /v1/accounts` and `GET /v1/accounts/{id}/transactions?pageSize=50` with a valid bearer
 *         token (HS256 verified, grant and consent liveness read from the database on every request),
 *         at 50 connections, against
 *           1. Ferry over SQLite (a temp file, WAL)        `ferry start` in a child process
 *           2. Ferry over PostgreSQL (a fresh schema)      `ferry start` in a child process
 *           3. a bare node:http server answering the same bytes from memory, in a child process
 *              (and, for scale, Fastify alone answering them: --no-fastify leaves it out)
 *           4. for the SQLite page, its floor (bench/data/floor-server.ts): the least a server can do
 *              for it on Ferry's file, measured in turns with Ferry and the bare server
 *         driven by autocannon in this process.
 *   Sync  stored transactions per second of `syncConsent` (src/data/sync.ts), end to end (provider
 *         fetch, matching, writes, events), for users with two years of history: `longhistory`
 *         users (20,000 transactions each) and ordinary users, first sync and resync, per dialect.
 *
 * Prints markdown tables and writes them into bench/RESULTS.md (section "Data API (issue 5)").
 *
 *   npx tsx bench/data/run.ts [--duration 10] [--warmup 3] [--connections 50] [--repeat 1]
 *                             [--dialects sqlite,postgres] [--parts http,sync] [--endpoints accounts,transactions]
 *                             [--longhistory 4] [--ordinary 20] [--quiet-wait 60] [--no-bare] [--no-fastify]
 *                             [--profile] [--no-write] [--pin] [--no-floor]
 *
 * --repeat N  measures each target N times (after waiting for the machine to be quiet) and reports
 *             the fastest run: other work on a shared machine only ever slows a run down.
 * --quiet-wait S  before each measurement, waits up to S seconds for other work on the machine to stop.
 * --pin       autocannon on CPU 0, each server under test on CPU 1 (see PIN below).
 * --no-floor  leaves out the SQLite page's floor (bench/data/floor-server.ts: node:http and better-sqlite3
 *             doing only what the page must, on Ferry's file, answering Ferry's bytes), measured in turns
 *             with Ferry's page.
 * --profile   runs the Ferry children under `node --cpu-prof` (bench/out/data-profiles/<dialect>/);
 *             summarise with `npx tsx bench/data/profile-summary.ts FILE`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import type { DatabaseConfig } from '../../src/config.js';
import { syncConsent } from '../../src/data/sync.js';
import pg from 'pg';
import { analyze, benchPostgresUrl, connectConsent, createBenchDatabase, createBenchServer, runJobs, BENCH_APPLICATION_NAME, BENCH_POSTGRES_URL, type Dialect } from './setup.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md');
const SECTION_TITLE = '## Data API (issue 5)';
const BEGIN = '<!-- bench/data/run.ts: generated tables, begin -->';
const END = '<!-- bench/data/run.ts: generated tables, end -->';

// autocannon ships no types; this is the part of its API used here.
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  requests: { total: number; average: number };
}
type Autocannon = (options: Record<string, unknown>, callback: (error: Error | null, result: AutocannonResult) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    repeat: { type: 'string', default: '1' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    parts: { type: 'string', default: 'http,sync' },
    endpoints: { type: 'string', default: 'accounts,transactions' },
    longhistory: { type: 'string', default: '4' },
    ordinary: { type: 'string', default: '20' },
    'quiet-wait': { type: 'string', default: '60' },
    bare: { type: 'boolean', default: true },
    fastify: { type: 'boolean', default: true },
    floor: { type: 'boolean', default: true },
    profile: { type: 'boolean', default: false },
    write: { type: 'boolean', default: true },
    pin: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const REPEAT = Math.max(1, Number(args.repeat));
const DIALECTS = args.dialects.split(',').map((d) => d.trim()) as Dialect[];
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown dialect ${d}`);
const PARTS = new Set(args.parts.split(',').map((p) => p.trim()));
const LONG_HISTORY_USERS = Number(args.longhistory);
const ORDINARY_USERS = Number(args.ordinary);
const QUIET_WAIT_S = Number(args['quiet-wait']);
const POOL_SIZE = Number(process.env.DATABASE_POOL_SIZE ?? 10);
/**
 * --pin: this process (autocannon) on CPU 0 and each server under test (bare, Fastify, Ferry) on
 * CPU 1, with `taskset`; PostgreSQL where the scheduler puts it. Left to the scheduler, a server
 * that shares a CPU with autocannon some of the time costs ~40 % more CPU a request than one
 * that keeps its own (two servers measured in turns, one run: 340 against 480 µs a page), and
 * which of the two a run gets is chance.
 */
const PIN = args.pin;
const SERVER_CPU = 1;

function pin(pid: number, cpu: number | string): void {
  const done = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  if (done.status !== 0) throw new Error('--pin needs taskset (util-linux) and at least two CPUs');
}
/** The ordinary user whose consent the HTTP benchmark reads (3 accounts, TestDataBank1). */
const HTTP_USER = 'benchmark';

const ALL_ENDPOINTS = ['accounts', 'transactions'] as const;
type Endpoint = (typeof ALL_ENDPOINTS)[number];
const ENDPOINTS = ALL_ENDPOINTS.filter((e) => args.endpoints.split(',').includes(e));
const ENDPOINT_LABEL: Record<Endpoint, string> = { accounts: 'GET /v1/accounts', transactions: 'GET /v1/accounts/{id}/transactions?pageSize=50' };
/** Share of the bare server's rate Ferry must reach (issue #5). */
const TARGET_RATIO: Record<Dialect, number> = { sqlite: 0.35, postgres: 0.2 };
const SYNC_TARGET_SQLITE = 50_000;

// ---------------------------------------------------------------- processes

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function pipeStderr(child: ChildProcess, name: string): void {
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') process.stderr.write(`  [${name}] ${line}\n`);
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
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

// ---------------------------------------------------------------- CPU accounting

const CLOCK_TICKS = 100;

function processCpuSeconds(pid: number, which: 'user+system' | 'system' = 'user+system'): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((which === 'system' ? 0 : Number(fields[11])) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds of each PostgreSQL backend serving the benchmark's connections (application_name
 * BENCH_APPLICATION_NAME), by pid: other work on the machine may use PostgreSQL too.
 */
async function postgresCpu(): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [BENCH_APPLICATION_NAME]);
    return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid)]));
  } finally {
    await client.end();
  }
}

/** CPU seconds the benchmark's backends used since `before` (a backend new since then from zero). */
async function postgresCpuSince(before: Map<number, number>): Promise<number> {
  let total = 0;
  for (const [pid, seconds] of await postgresCpu()) if (Number.isFinite(seconds)) total += seconds - (before.get(pid) ?? 0);
  return total;
}

function machineTicks(): { busy: number; total: number } {
  const numbers = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = numbers.reduce((a, b) => a + b, 0);
  return { busy: total - (numbers[3] ?? 0) - (numbers[4] ?? 0), total };
}

/** Waits (up to --quiet-wait seconds) until other work on the machine uses less than a quarter of one core. */
async function waitForQuiet(name: string): Promise<void> {
  if (QUIET_WAIT_S <= 0) return;
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const before = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const after = machineTicks();
    const busy = ((after.busy - before.busy) / (after.total - before.total)) * os.cpus().length * 100;
    if (busy < 25) return;
    if (Date.now() > deadline) {
      log(`${name}: the machine is still busy (${fmt(busy)} % of a core in use by others); measuring anyway`);
      return;
    }
  }
}

// ---------------------------------------------------------------- HTTP load

interface HttpRow {
  target: 'bare' | 'fastify' | 'floor' | Dialect;
  endpoint: Endpoint;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failures: number;
  statuses: string;
  serverCpu: number;
  postgresCpu: number;
  otherCpu: number;
  bytes: number;
  runs: number[];
}

function runAutocannon(url: string, headers: Record<string, string>, seconds: number): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, headers, timeout: 10 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function measure(target: HttpRow['target'], endpoint: Endpoint, label: string, url: string, headers: Record<string, string>, pid: number, bytes: number, repeat = REPEAT): Promise<HttpRow> {
  const name = `${target} ${endpoint}`;
  if (WARMUP > 0) await runAutocannon(url, headers, WARMUP);
  const samples: Array<{ result: AutocannonResult; serverCpu: number; serverSystemShare: number; postgresCpu: number; otherCpu: number }> = [];
  for (let i = 0; i < repeat; i++) {
    await waitForQuiet(name);
    const postgresBefore = target === 'postgres' ? await postgresCpu() : new Map<number, number>();
    const before = { server: processCpuSeconds(pid), serverSystem: processCpuSeconds(pid, 'system'), self: process.cpuUsage(), machine: machineTicks() };
    const started = performance.now();
    const result = await runAutocannon(url, headers, DURATION);
    const elapsed = (performance.now() - started) / 1000;
    const server = processCpuSeconds(pid) - before.server;
    const serverSystem = processCpuSeconds(pid, 'system') - before.serverSystem;
    const postgres = target === 'postgres' ? await postgresCpuSince(postgresBefore) : 0;
    const selfUsage = process.cpuUsage(before.self);
    const machineAfter = machineTicks();
    const machine = ((machineAfter.busy - before.machine.busy) / (machineAfter.total - before.machine.total)) * os.cpus().length * elapsed;
    const other = Math.max(0, machine - server - postgres - (selfUsage.user + selfUsage.system) / 1e6);
    const sample = { result, serverCpu: (server / elapsed) * 100, serverSystemShare: serverSystem / server, postgresCpu: (postgres / elapsed) * 100, otherCpu: (other / elapsed) * 100 };
    samples.push(sample);
    const perSecond = (result.statusCodeStats['200']?.count ?? 0) / result.duration;
    log(`${name}: run ${i + 1}/${repeat}: ${fmt(perSecond)}/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, server ${fmt((sample.serverCpu * 10_000) / perSecond)} µs CPU/request (${fmt(sample.serverSystemShare * 100)} % in the kernel), other load ${fmt(sample.otherCpu)} %`);
  }
  const rate = (s: (typeof samples)[number]) => (s.result.statusCodeStats['200']?.count ?? 0) / s.result.duration;
  const best = samples.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const failures = (s: (typeof samples)[number]) =>
    Object.entries(s.result.statusCodeStats).reduce((n, [code, v]) => n + (code === '200' ? 0 : v.count), 0) + s.result.errors + s.result.timeouts;
  return {
    target,
    endpoint,
    label,
    rps: rate(best),
    p50: best.result.latency.p50,
    p99: best.result.latency.p99,
    ok: best.result.statusCodeStats['200']?.count ?? 0,
    failures: samples.reduce((n, s) => n + failures(s), 0),
    statuses: samples.map((s) => Object.entries(s.result.statusCodeStats).map(([code, v]) => `${code}×${v.count}`).join(' ') + (s.result.errors > 0 ? ` errors×${s.result.errors}` : '')).join('; '),
    serverCpu: best.serverCpu,
    postgresCpu: best.postgresCpu,
    otherCpu: best.otherCpu,
    bytes,
    runs: samples.map(rate),
  };
}

interface FerryHttp {
  rows: HttpRow[];
  /** What Ferry answered, by path: the bare server answers the same bytes. */
  bodies: Record<Endpoint, { path: string; body: string }>;
}

async function benchFerryHttp(dialect: Dialect): Promise<FerryHttp> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  log(`ferry ${dialect}: preparing the database (one consent of user "${HTTP_USER}", first sync)`);
  const bench = await createBenchDatabase(dialect);
  const databaseConfig: DatabaseConfig = dialect === 'sqlite' ? { dialect, file: bench.env.FERRY_DB_FILE! } : { dialect, url: benchPostgresUrl(), poolSize: POOL_SIZE };
  const setup = await createBenchServer(bench.database, databaseConfig, base);
  const consent = await connectConsent(setup, HTTP_USER);
  await runJobs(setup);
  await analyze(bench.database);
  await setup.close();
  await bench.close();

  const profileDir = path.join(ROOT, 'bench', 'out', 'data-profiles', dialect);
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'ferry.js'), 'start'], {
    cwd: ROOT,
    // Logs go where a service's stdout goes; here /dev/null, so writing them is counted but not kept.
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ...bench.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      FERRY_DEMO: 'false',
      FERRY_RATE_LIMITS: 'false',
      ...(dialect === 'postgres' ? { DATABASE_POOL_SIZE: String(POOL_SIZE) } : {}),
    },
  });
  if (PIN) pin(child.pid!, SERVER_CPU);
  pipeStderr(child, `ferry ${dialect}`);
  let floor: Floor | undefined;
  try {
    await waitForHttp(`${base}/readyz`, child);
    const headers = { authorization: `Bearer ${consent.accessToken}` };
    const accounts = await fetchChecked(`${base}/v1/accounts`, headers);
    const account = (JSON.parse(accounts) as { accounts: Array<{ id: string; name: string }> }).accounts[0]!;
    const transactionsPath = `/v1/accounts/${account.id}/transactions?pageSize=50`;
    const transactions = await fetchChecked(`${base}${transactionsPath}`, headers);
    const page = JSON.parse(transactions) as { transactions: unknown[]; pagingToken: string | null };
    if (page.transactions.length !== 50 || page.pagingToken === null) throw new Error(`expected a full page of 50 with a pagingToken, got ${page.transactions.length}`);
    const bodies: Record<Endpoint, { path: string; body: string }> = { accounts: { path: '/v1/accounts', body: accounts }, transactions: { path: transactionsPath, body: transactions } };
    const label = dialect === 'sqlite' ? 'Ferry, SQLite (file, WAL)' : `Ferry, PostgreSQL (pool ${POOL_SIZE})`;
    const rows: HttpRow[] = [];
    floor = dialect === 'sqlite' && args.floor && ENDPOINTS.includes('transactions') ? await startFloor(bench.env.FERRY_DB_FILE!, bodies.transactions, headers) : undefined;
    for (const endpoint of ENDPOINTS) {
      const { path: p, body } = bodies[endpoint];
      const bytes = Buffer.byteLength(body);
      if (endpoint === 'transactions' && floor !== undefined) {
        // Ferry, the floor and the bare server in turns, round after round, so that each round's
        // three meet the same minute of a machine whose speed moves within minutes.
        const bare = await startBare('bare', bodies);
        try {
          const ferryRuns: HttpRow[] = [];
          const floorRuns: HttpRow[] = [];
          for (let round = 0; round < REPEAT; round++) {
            ferryRuns.push(await measure(dialect, endpoint, label, `${base}${p}`, headers, child.pid!, bytes, 1));
            floorRuns.push(await measure('floor', endpoint, FLOOR_LABEL, floor.url, headers, floor.pid, bytes, 1));
            const bareRun = await measure('bare', endpoint, BARE_LABEL.bare, `http://127.0.0.1:${bare.port}${p}`, BARE_HEADERS, bare.pid, bytes, 1);
            pageTurns.push({ ferry: ferryRuns.at(-1)!, floor: floorRuns.at(-1)!, bare: bareRun });
          }
          rows.push(fastestOf(ferryRuns), fastestOf(floorRuns));
        } finally {
          await bare.stop();
        }
      } else {
        rows.push(await measure(dialect, endpoint, label, `${base}${p}`, headers, child.pid!, bytes));
      }
      // Every answer must have been the same, valid one: the bearer check never fell through.
      if ((await fetchChecked(`${base}${p}`, headers)) !== body) throw new Error(`${dialect} ${endpoint}: the answer changed during the run`);
    }
    return { rows, bodies };
  } finally {
    await floor?.stop();
    await stopChild(child);
    await bench.drop();
    if (args.profile) log(`ferry ${dialect}: CPU profile in ${path.relative(ROOT, profileDir)}`);
  }
}

async function fetchChecked(url: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return text;
}

const FLOOR_LABEL = 'floor: node:http + better-sqlite3, the page’s reads and Ferry’s serializer, nothing else';

interface Floor {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A server script of this folder as a child (IPC: `message` in, anything back once it listens). */
async function startChildServer(script: string, name: string, message: Record<string, unknown>): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, script)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  if (PIN) pin(child.pid!, SERVER_CPU);
  pipeStderr(child, name);
  const stop = () => stopChild(child);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`${name} server exited with code ${code}`)));
      child.send(message);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, stop };
}

/** The SQLite page's floor (bench/data/floor-server.ts) on Ferry's file, checked to answer Ferry's bytes. */
async function startFloor(file: string, page: { path: string; body: string }, headers: Record<string, string>): Promise<Floor> {
  const port = await freePort();
  const server = await startChildServer('floor-server.ts', 'floor', { port, file });
  const url = `http://127.0.0.1:${port}${page.path}`;
  try {
    if ((await fetchChecked(url, headers)) !== page.body) throw new Error("floor server: not Ferry's bytes");
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, ...server };
}

/** The SQLite page's rounds in turns: Ferry, the floor, the bare server (each a single run). */
const pageTurns: Array<{ ferry: HttpRow; floor: HttpRow; bare: HttpRow }> = [];

function turnsParagraph(): string[] {
  if (pageTurns.length === 0) return [];
  const pct = (a: HttpRow, b: HttpRow) => `${fmt((a.rps / b.rps) * 100)} %`;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
  const rounds = pageTurns.map(
    (t, i) =>
      `${i + 1}: Ferry ${fmt(t.ferry.rps)}/s (${fmt((t.ferry.serverCpu * 10_000) / t.ferry.rps)} µs), floor ${fmt(t.floor.rps)}/s (${fmt((t.floor.serverCpu * 10_000) / t.floor.rps)} µs), bare ${fmt(t.bare.rps)}/s: Ferry ${pct(t.ferry, t.bare)} and the floor ${pct(t.floor, t.bare)} of the bare server`,
  );
  return [
    `The SQLite page in turns (Ferry, the floor, the bare server, one after another in each round, ${DURATION} s each): ${rounds.join('; ')}. ` +
      `Medians of the rounds: Ferry ${fmt(median(pageTurns.map((t) => t.ferry.rps / t.bare.rps)) * 100)} %, the floor ${fmt(median(pageTurns.map((t) => t.floor.rps / t.bare.rps)) * 100)} % of the bare server; Ferry's CPU a page ${fmt(median(pageTurns.map((t) => ((t.ferry.serverCpu / t.ferry.rps) / (t.floor.serverCpu / t.floor.rps)))), 2)}× the floor's.`,
    '',
  ];
}

/** Single-run rows of one target as one row: the fastest run, every run's rate and failures. */
function fastestOf(runs: HttpRow[]): HttpRow {
  const best = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { ...best, failures: runs.reduce((n, r) => n + r.failures, 0), statuses: runs.map((r) => r.statuses).join('; '), runs: runs.flatMap((r) => r.runs) };
}

interface BareServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startBare(kind: 'bare' | 'fastify', bodies: FerryHttp['bodies']): Promise<BareServer> {
  const port = await freePort();
  const server = await startChildServer('bare-server.ts', kind, { port, kind, bodies: Object.fromEntries(ENDPOINTS.map((e) => [bodies[e].path, bodies[e].body])) });
  try {
    for (const endpoint of ENDPOINTS) {
      const { path: p, body } = bodies[endpoint];
      if ((await fetchChecked(`http://127.0.0.1:${port}${p}`, BARE_HEADERS)) !== body) throw new Error(`${kind} server: wrong bytes`);
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { port, ...server };
}

const BARE_HEADERS = { authorization: 'Bearer x' };
const BARE_LABEL = { bare: 'bare node:http, same bytes from memory', fastify: 'Fastify 5 alone, same bytes from memory' } as const;

async function benchBare(kind: 'bare' | 'fastify', bodies: FerryHttp['bodies']): Promise<HttpRow[]> {
  const server = await startBare(kind, bodies);
  try {
    const rows: HttpRow[] = [];
    for (const endpoint of ENDPOINTS) {
      const { path: p, body } = bodies[endpoint];
      rows.push(await measure(kind, endpoint, BARE_LABEL[kind], `http://127.0.0.1:${server.port}${p}`, BARE_HEADERS, server.pid, Buffer.byteLength(body)));
    }
    return rows;
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- sync

interface SyncRow {
  dialect: Dialect;
  users: string;
  kind: 'first sync' | 'resync';
  consents: number;
  stored: number;
  seconds: number;
  /** CPU time of this process (and of PostgreSQL's) over the same syncs: less moved by other load than seconds. */
  cpuSeconds: number;
  postgresCpuSeconds: number;
  perUserMs: number;
}

async function benchSync(dialect: Dialect): Promise<SyncRow[]> {
  log(`sync ${dialect}: connecting ${LONG_HISTORY_USERS} longhistory and ${ORDINARY_USERS} ordinary users`);
  const bench = await createBenchDatabase(dialect);
  const databaseConfig: DatabaseConfig = dialect === 'sqlite' ? { dialect, file: bench.env.FERRY_DB_FILE! } : { dialect, url: benchPostgresUrl(), poolSize: POOL_SIZE };
  const server = await createBenchServer(bench.database, databaseConfig, 'http://127.0.0.1:1');
  try {
    // A first sync happens once per consent: each round (--repeat) connects users of its own.
    const groupsOf = (round: number) => [
      { users: `longhistory (20,000 transactions each)`, names: Array.from({ length: LONG_HISTORY_USERS }, (_, i) => `longhistory+${round * LONG_HISTORY_USERS + i + 1}`) },
      { users: 'ordinary (3–4 accounts, two years)', names: Array.from({ length: ORDINARY_USERS }, (_, i) => `user${round * ORDINARY_USERS + i + 1}`) },
    ];
    const deps = { db: bench.database.db, clock: systemClock, providers: server.services.providers };
    const best = new Map<string, SyncRow>();
    for (let round = 0; round < REPEAT; round++) {
      const groups = groupsOf(round);
      const consents = new Map<string, string[]>();
      for (const group of groups) {
        const ids: string[] = [];
        for (const name of group.names) ids.push((await connectConsent(server, name)).consentId);
        consents.set(group.users, ids);
      }
      for (const row of await syncRound(dialect, deps, groups, consents)) {
        const key = `${row.kind}\n${row.users}`;
        const kept = best.get(key);
        if (kept === undefined || row.seconds / Math.max(1, row.stored) < kept.seconds / Math.max(1, kept.stored)) best.set(key, row);
      }
    }
    return [...best.values()];
  } finally {
    await server.close();
    await bench.drop();
  }
}

/** One round of the sync benchmark: every group's first syncs, then their resyncs. */
async function syncRound(
  dialect: Dialect,
  deps: Parameters<typeof syncConsent>[0],
  groups: Array<{ users: string; names: string[] }>,
  consents: Map<string, string[]>,
): Promise<SyncRow[]> {
  const rows: SyncRow[] = [];
  for (const kind of ['first sync', 'resync'] as const) {
    for (const group of groups) {
      const ids = consents.get(group.users)!;
      await waitForQuiet(`sync ${dialect}`);
      let stored = 0;
      const cpuBefore = process.cpuUsage();
      const postgresBefore = dialect === 'postgres' ? await postgresCpu() : new Map<number, number>();
      const started = performance.now();
      for (const id of ids) {
        const report = await syncConsent(deps, id);
        if (report.status !== 'done') throw new Error(`sync of ${id} ${report.status}: ${report.reason}`);
        stored += report.stored;
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const row: SyncRow = {
        dialect,
        users: group.users,
        kind,
        consents: ids.length,
        stored,
        seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        postgresCpuSeconds: dialect === 'postgres' ? await postgresCpuSince(postgresBefore) : 0,
        perUserMs: (seconds * 1000) / ids.length,
      };
      log(`sync ${dialect}: ${kind}, ${group.users}: ${fmt(stored)} stored in ${fmt(seconds, 2)} s (${fmt(stored / seconds)}/s, ${fmt(row.perUserMs)} ms a user; CPU ${fmt(row.cpuSeconds, 2)} s + PostgreSQL ${fmt(row.postgresCpuSeconds, 2)} s)`);
      rows.push(row);
    }
  }
  return rows;
}

// ---------------------------------------------------------------- report

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');

function httpTable(rows: HttpRow[]): string {
  const lines = [
    '| endpoint | target | req/s | p50 ms | p99 ms | 200s | non-200 + errors | body bytes | server CPU | server µs/req | PostgreSQL CPU | other load | × bare | target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const endpoint of ENDPOINTS) {
    const bare = rows.find((r) => r.target === 'bare' && r.endpoint === endpoint);
    for (const r of rows.filter((x) => x.endpoint === endpoint)) {
      const ratio = bare === undefined ? null : r.rps / bare.rps;
      const goal = r.target === 'bare' || r.target === 'fastify' || r.target === 'floor' ? '' : `≥ ${fmt(TARGET_RATIO[r.target] * 100)} %: ${ratio === null ? 'no bare figure' : ratio >= TARGET_RATIO[r.target] && r.failures === 0 ? 'met' : '**missed**'}`;
      lines.push(
        `| ${ENDPOINT_LABEL[endpoint]} | ${r.label} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${fmt(r.ok)} | ${r.failures === 0 ? '0' : `**${r.failures}** (${r.statuses})`} | ${fmt(r.bytes)} | ${fmt(r.serverCpu)} % | ${fmt((r.serverCpu * 10_000) / r.rps)} | ${r.target === 'postgres' ? `${fmt(r.postgresCpu)} %` : '–'} | ${fmt(r.otherCpu)} % | ${ratio === null ? '–' : `${fmt(ratio * 100)} %`} | ${goal} |`,
      );
    }
  }
  return lines.join('\n');
}

function syncTable(rows: SyncRow[]): string {
  const lines = [
    '| database | users | sync | consents | transactions stored | seconds | stored/s | ms a user | CPU s (bench process) | CPU s (PostgreSQL) | stored per CPU s | target |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const rate = r.stored / r.seconds;
    const perCpu = r.stored / (r.cpuSeconds + r.postgresCpuSeconds);
    const goal = r.dialect === 'sqlite' && r.kind === 'first sync' ? `≥ 50,000/s: ${rate >= SYNC_TARGET_SQLITE ? 'met' : '**missed**'}` : '';
    lines.push(
      `| ${r.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${r.users} | ${r.kind} | ${r.consents} | ${fmt(r.stored)} | ${fmt(r.seconds, 2)} | ${r.stored === 0 ? '–' : fmt(rate)} | ${fmt(r.perUserMs)} | ${fmt(r.cpuSeconds, 2)} | ${r.dialect === 'postgres' ? fmt(r.postgresCpuSeconds, 2) : '–'} | ${r.stored === 0 ? '–' : fmt(perCpu)} | ${goal} |`,
    );
  }
  return lines.join('\n');
}

function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

function generated(httpRows: HttpRow[], syncRows: SyncRow[], command: string): string {
  return [
    BEGIN,
    `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${machineDescription()}; server, PostgreSQL and load generator share the cores.`,
    '',
    '```',
    command,
    '```',
    '',
    ...(httpRows.length > 0
      ? [
          `HTTP: ${CONNECTIONS} connections, ${WARMUP} s warm-up then ${DURATION} s measured per row; Ferry at LOG_LEVEL=info (the default), rate limits off${PIN ? `; autocannon pinned to CPU 0 and each server to CPU ${SERVER_CPU} (--pin)` : ''}.`,
          '',
          httpTable(httpRows),
          '',
          ...(REPEAT > 1 ? [`Each row measured ${REPEAT} times; the table shows the fastest run.`, ''] : []),
          'CPU columns: % of one core over the measured run; server µs/req: the server process’s CPU time per 200 answer; other load: CPU none of server, PostgreSQL or load generator used.',
          '',
          ...turnsParagraph(),
        ]
      : []),
    ...(syncRows.length > 0
      ? [
          `Sync: \`syncConsent\` end to end, one consent after another, in the benchmark process (TestDataBank1; first sync: two years; resync: the 90-day window, nothing changed).`,
          '',
          syncTable(syncRows),
          '',
          ...(REPEAT > 1 ? [`Each row measured ${REPEAT} times, each time with users of its own; the table shows the fastest run.`, ''] : []),
        ]
      : []),
    END,
  ].join('\n');
}

function writeResults(block: string): void {
  let text = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(SECTION_TITLE);
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${SECTION_TITLE}\n\n${block}\n`;
  } else {
    const nextSection = text.indexOf('\n## ', start + SECTION_TITLE.length);
    const sectionEnd = nextSection === -1 ? text.length : nextSection;
    const begin = text.indexOf(BEGIN, start);
    const end = text.indexOf(END, start);
    if (begin !== -1 && end !== -1 && end < sectionEnd) text = text.slice(0, begin) + block + text.slice(end + END.length);
    else text = `${text.slice(0, sectionEnd).trimEnd()}\n\n${block}\n${text.slice(sectionEnd)}`;
  }
  fs.writeFileSync(RESULTS_FILE, text);
}

// ---------------------------------------------------------------- main

const command = `npx tsx bench/data/run.ts ${process.argv.slice(2).join(' ')}`.trim();
log(`data benchmark: ${DIALECTS.join(', ')}; ${[...PARTS].join(', ')}; ${machineDescription()}`);
const httpRows: HttpRow[] = [];
const syncRows: SyncRow[] = [];
if (PARTS.has('http')) {
  // The sync rows run in this process and want both CPUs again after.
  if (PIN) pin(process.pid, 0);
  let bareDone = false;
  for (const dialect of DIALECTS) {
    log(`\n== ferry ${dialect}`);
    const { rows, bodies } = await benchFerryHttp(dialect);
    httpRows.push(...rows);
    if (!bareDone && args.bare) {
      log('\n== bare node:http');
      const bare = await benchBare('bare', bodies);
      const fastify = args.fastify ? (log('\n== Fastify alone'), await benchBare('fastify', bodies)) : [];
      httpRows.unshift(...bare, ...fastify);
      bareDone = true;
    }
  }
  if (PIN) pin(process.pid, '0-1');
}
if (PARTS.has('sync')) {
  for (const dialect of DIALECTS) {
    log(`\n== sync ${dialect}`);
    syncRows.push(...(await benchSync(dialect)));
  }
}
const block = generated(httpRows, syncRows, command);
process.stdout.write(`\n${httpRows.length > 0 ? `${httpTable(httpRows)}\n\n${turnsParagraph().join('\n')}` : ''}${syncRows.length > 0 ? `${syncTable(syncRows)}\n` : ''}`);
if (args.write) {
  writeResults(block);
  log(`\nwritten to ${path.relative(ROOT, RESULTS_FILE)}`);
}

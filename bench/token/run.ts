/**
 * Token endpoint benchmark (issue #2): authorization-code exchanges per second, codes minted ahead,
 * each request a fresh code (Basic client auth, PKCE code_verifier), on
 *
 *   1. Ferry over SQLite (a temp file)              `ferry start` in a child process
 *   2. Ferry over PostgreSQL (a fresh database)      `ferry start` in a child process
 *   3. oidc-provider v9 (one confidential client, PKCE S256, in-memory storage), in a child process
 *   4. a bare node:http server answering a fixed token response, for scale
 *   5. the floor (floor-server.ts): the least a durable exchange can cost on Ferry's SQLite file and
 *      PostgreSQL database, node:http and the exchange's checks and writes only; what the targets
 *      would need, measured in the same run
 *
 * driven by autocannon in this process at 50 connections over loopback. Prints a markdown table and
 * writes it into bench/RESULTS.md (section "Token endpoint (issue 2)").
 *
 *   npx tsx bench/token/run.ts [--duration 10] [--warmup 3] [--connections 50] [--repeat 2]
 *                              [--targets ferry-sqlite,ferry-postgres,oidc-provider,oidc-provider-id-token,bare,floor-sqlite,floor-postgres]
 *                              [--profile] [--no-write] [--results FILE]
 *
 * --repeat N measures each target N times (after waiting for the machine to be quiet) and reports
 *   the fastest run: other work on a shared machine only ever slows a run down.
 * --profile runs the Ferry and floor children under `node --cpu-prof` and prints where the .cpuprofile went.
 * oidc-provider runs twice: `oidc-provider` issues what Ferry issues (access and refresh token, no ID
 * token: the like-for-like baseline the ratios use); `oidc-provider-id-token` has `openid` in its
 * codes and so also signs an RS256 ID token (its default algorithm), as an OpenID Connect login does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareFerry, type MintedCode } from './ferry-setup.js';
import { OIDC_CLIENT } from './oidc-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SECTION_TITLE = '## Token endpoint (issue 2)';
const BEGIN = '<!-- bench/token/run.ts: generated table, begin -->';
const END = '<!-- bench/token/run.ts: generated table, end -->';

const TARGETS = ['ferry-sqlite', 'ferry-postgres', 'oidc-provider', 'oidc-provider-id-token', 'bare', 'floor-sqlite', 'floor-postgres'] as const;
type TargetName = (typeof TARGETS)[number];

// autocannon ships no types; this is the part of its API used here.
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  requests: { total: number; average: number };
}
type Autocannon = (options: Record<string, unknown>, callback: (error: Error | null, result: AutocannonResult) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    repeat: { type: 'string', default: '2' },
    targets: { type: 'string', default: TARGETS.join(',') },
    profile: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    results: { type: 'string' },
  },
});
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const RESULTS_FILE = path.resolve(args.results ?? path.join(ROOT, 'bench', 'RESULTS.md'));
const CONNECTIONS = Number(args.connections);
const REPEAT = Math.max(1, Number(args.repeat));
const selected = args.targets.split(',').map((t) => t.trim()) as TargetName[];
for (const t of selected) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}; use ${TARGETS.join(', ')}`);

/** Codes to mint: the run at this rate (requests per second) with a 30 % margin. */
const codesFor = (rate: number) => Math.ceil((WARMUP + DURATION * REPEAT) * rate * 1.3);
const FERRY_MAX_RATE = 8_000;
const OIDC_MAX_RATE = 8_000;

interface Row {
  target: TargetName;
  label: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  ok: number;
  failures: number;
  statuses: string;
  serverCpu: number;
  machineCpu: number;
  postgresCpu: number;
  otherCpu: number;
  runs: number[];
  exhausted: boolean;
  note: string;
}

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

const stopping = new WeakSet<ChildProcess>();

function pipeOutput(child: ChildProcess, name: string): void {
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) log(`  [${name}] exited during the run (code ${code}, signal ${signal}): its figures are invalid`);
  });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '' && !/Unsupported runtime/.test(line)) process.stderr.write(`  [${name}] ${line}\n`);
  };
  child.stderr?.on('data', forward);
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function ipcChild(script: string, profileAs?: string): ChildProcess {
  const nodeArgs = args.profile && profileAs !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench', 'out', 'token-profiles', profileAs)}`] : [];
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
}

async function ipcReady<T>(child: ChildProcess, message: unknown, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not get ready in time')), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once('exit', (code) => reject(new Error(`child exited with code ${code}`)));
    child.send(message as never);
  });
}

// ---------------------------------------------------------------- CPU accounting

const CLOCK_TICKS = 100;

function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds, by pid, of the PostgreSQL processes that work for the server under test: the backends
 * connected to its database (their title names it) and the shared writers (WAL writer, checkpointer,
 * background writer). Other databases' backends, e.g. of tests running alongside, are left out.
 */
function postgresCpu(database: string | null): Map<number, number> {
  const out = new Map<number, number>();
  if (database === null) return out;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!title.startsWith('postgres:')) continue;
      if (!title.includes(` ${database} `) && !/walwriter|checkpointer|background writer/.test(title)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // the process ended
    }
  }
  return out;
}

function postgresCpuSince(before: Map<number, number>, database: string | null): number {
  let total = 0;
  for (const [pid, seconds] of postgresCpu(database)) total += seconds - (before.get(pid) ?? 0);
  return total;
}

function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const numbers = line.split(/\s+/).slice(1).map(Number);
  const total = numbers.reduce((a, b) => a + b, 0);
  const idle = (numbers[3] ?? 0) + (numbers[4] ?? 0);
  return { busy: total - idle, total };
}

// ---------------------------------------------------------------- load

interface Load {
  url: string;
  headers: Record<string, string>;
  /** The body of the next request; null when the codes have run out. */
  nextBody: (() => string | null) | null;
  fixedBody?: string;
}

function runAutocannon(load: Load, seconds: number): Promise<AutocannonResult & { exhausted: boolean }> {
  let exhausted = false;
  const request: AutocannonRequest = { method: 'POST', path: new URL(load.url).pathname, headers: load.headers };
  if (load.nextBody !== null) {
    const next = load.nextBody;
    request.setupRequest = (req) => {
      const body = next();
      if (body === null) exhausted = true;
      return { ...req, body: body ?? '{}' };
    };
  } else {
    request.body = load.fixedBody ?? '';
  }
  return new Promise((resolve, reject) => {
    autocannon(
      { url: load.url, connections: CONNECTIONS, duration: seconds, requests: [request], timeout: 10 },
      (error, result) => (error ? reject(error) : resolve({ ...result, exhausted })),
    );
  });
}

interface Sample {
  result: AutocannonResult & { exhausted: boolean };
  serverCpu: number;
  machineCpu: number;
  postgresCpu: number;
  otherCpu: number;
}

async function sample(load: Load, pid: number, database: string | null): Promise<Sample> {
  const before = { server: processCpuSeconds(pid), postgres: postgresCpu(database), self: process.cpuUsage(), machine: machineTicks() };
  const started = performance.now();
  const result = await runAutocannon(load, DURATION);
  const elapsed = (performance.now() - started) / 1000;
  const server = processCpuSeconds(pid) - before.server;
  const postgres = postgresCpuSince(before.postgres, database);
  const selfUsage = process.cpuUsage(before.self);
  const self = (selfUsage.user + selfUsage.system) / 1e6;
  const machineAfter = machineTicks();
  const machine = ((machineAfter.busy - before.machine.busy) / (machineAfter.total - before.machine.total)) * os.cpus().length * elapsed;
  return {
    result,
    serverCpu: (server / elapsed) * 100,
    machineCpu: (machine / elapsed) * 100,
    postgresCpu: (postgres / elapsed) * 100,
    // What neither the server under test, its database nor the load generator used: other work on the machine.
    otherCpu: Math.max(0, ((machine - server - postgres - self) / elapsed) * 100),
  };
}

async function measure(target: TargetName, label: string, load: Load, pid: number, note: string, database: string | null = null): Promise<Row> {
  if (WARMUP > 0) await runAutocannon(load, WARMUP);
  const samples: Sample[] = [];
  for (let i = 0; i < REPEAT; i++) {
    await waitForQuiet(target);
    const s = await sample(load, pid, database);
    const perSecond = (s.result.statusCodeStats['200']?.count ?? 0) / s.result.duration;
    log(`${target}: run ${i + 1}/${REPEAT}: ${fmt(perSecond)}/s, p99 ${fmt(s.result.latency.p99)} ms, server ${fmt((s.serverCpu * 10_000) / perSecond)} µs CPU/exchange${database !== null ? `, PostgreSQL ${fmt((s.postgresCpu * 10_000) / perSecond)} µs` : ''}, other load ${fmt(s.otherCpu)} %`);
    samples.push(s);
  }
  const rate = (s: Sample) => (s.result.statusCodeStats['200']?.count ?? 0) / s.result.duration;
  // Other work on the machine only ever slows a run down: report the fastest of the repetitions.
  const best = samples.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const { result } = best;
  const ok = result.statusCodeStats['200']?.count ?? 0;
  const failures = (s: Sample) => Object.entries(s.result.statusCodeStats).reduce((n, [code, v]) => n + (code === '200' ? 0 : v.count), 0) + s.result.errors;
  const statuses = samples.map((s) => Object.entries(s.result.statusCodeStats).map(([code, v]) => `${code}×${v.count}`).join(' ') + (s.result.errors > 0 ? ` errors×${s.result.errors}` : ''));
  return {
    target,
    label,
    rps: rate(best),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    ok,
    failures: samples.reduce((n, s) => n + failures(s), 0),
    statuses: statuses.join('; '),
    serverCpu: best.serverCpu,
    machineCpu: best.machineCpu,
    postgresCpu: best.postgresCpu,
    otherCpu: best.otherCpu,
    runs: samples.map(rate),
    exhausted: samples.some((s) => s.result.exhausted),
    note,
  };
}

/** Waits (up to 20 s) until other work on the machine uses less than a quarter of one core. */
async function waitForQuiet(target: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const before = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const after = machineTicks();
    const busy = ((after.busy - before.busy) / (after.total - before.total)) * os.cpus().length * 100;
    if (busy < 25) return;
    if (Date.now() > deadline) {
      log(`${target}: the machine is still busy (${fmt(busy)} % of a core in use by others); measuring anyway`);
      return;
    }
  }
}

function codeBodies(codes: { code: string; verifier: string }[], make: (c: { code: string; verifier: string }) => string): () => string | null {
  let index = 0;
  return () => (index < codes.length ? make(codes[index++]!) : null);
}

// ---------------------------------------------------------------- targets

async function benchFerry(dialect: 'sqlite' | 'postgres'): Promise<Row> {
  const target: TargetName = dialect === 'sqlite' ? 'ferry-sqlite' : 'ferry-postgres';
  const count = codesFor(FERRY_MAX_RATE);
  log(`${target}: minting ${count} codes`);
  const prepared = await prepareFerry(dialect, count);
  log(`${target}: minted in ${prepared.mintSeconds.toFixed(1)} s`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profileDir = path.join(ROOT, 'bench', 'out', 'token-profiles');
  // Node names the files CPU.<date>.<pid>.<thread>.<seq>.cpuprofile; the largest is Ferry's main thread.
  const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, target)}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'ferry.js'), 'start'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ...prepared.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      LOG_LEVEL: 'warn',
      FERRY_DEMO: 'false',
      FERRY_RATE_LIMITS: 'false',
    },
  });
  pipeOutput(child, target);
  try {
    await waitForHttp(`${base}/readyz`, child);
    const headers = { 'content-type': 'application/json', authorization: prepared.basic };
    const make = (c: MintedCode) => JSON.stringify({ grant_type: 'authorization_code', code: c.code, redirect_uri: prepared.redirectUri, code_verifier: c.verifier });
    await sanityCheck(target, `${base}/v1/oauth/token`, headers, make(prepared.codes.pop()!), ['access_token', 'refresh_token']);
    const load: Load = { url: `${base}/v1/oauth/token`, headers, nextBody: codeBodies(prepared.codes, make) };
    const label = dialect === 'sqlite' ? 'Ferry, SQLite (file, WAL)' : `Ferry, PostgreSQL (pool ${process.env.DATABASE_POOL_SIZE ?? 10})`;
    return await measure(target, label, load, child.pid!, 'JSON body', prepared.databaseName);
  } finally {
    await stopChild(child);
    await prepared.cleanup();
    if (args.profile) log(`${target}: CPU profile in ${profileDir}`);
  }
}

async function benchOidcProvider(idTokenAlg: 'RS256' | null): Promise<Row> {
  const target: TargetName = idTokenAlg === null ? 'oidc-provider' : 'oidc-provider-id-token';
  const count = codesFor(OIDC_MAX_RATE);
  const port = await freePort();
  const child = ipcChild(path.join(HERE, 'oidc-server.ts'));
  pipeOutput(child, target);
  try {
    log(`${target}: minting ${count} codes`);
    const started = performance.now();
    const ready = await ipcReady<{ codesFile: string }>(child, { port, count, idTokenAlg }, 180_000);
    log(`${target}: minted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const codes = fs
      .readFileSync(ready.codesFile, 'utf8')
      .split('\n')
      .map((line) => {
        const [code, verifier] = line.split(' ');
        return { code: code!, verifier: verifier! };
      });
    fs.rmSync(path.dirname(ready.codesFile), { recursive: true, force: true });
    const base = `http://127.0.0.1:${port}`;
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${OIDC_CLIENT.clientId}:${OIDC_CLIENT.clientSecret}`).toString('base64')}`,
    };
    const make = (c: MintedCode) =>
      new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: OIDC_CLIENT.redirectUri, code_verifier: c.verifier }).toString();
    const expected = idTokenAlg !== null ? ['access_token', 'refresh_token', 'id_token'] : ['access_token', 'refresh_token'];
    await sanityCheck(target, `${base}/token`, headers, make(codes.pop()!), expected);
    const load: Load = { url: `${base}/token`, headers, nextBody: codeBodies(codes, make) };
    const label = idTokenAlg !== null ? `oidc-provider 9, in-memory, + ${idTokenAlg} ID token` : 'oidc-provider 9, in-memory';
    return await measure(target, label, load, child.pid!, 'form body (its only token body)');
  } finally {
    await stopChild(child);
  }
}

async function benchBare(): Promise<Row> {
  const port = await freePort();
  const child = ipcChild(path.join(HERE, 'bare-server.ts'));
  pipeOutput(child, 'bare');
  try {
    await ipcReady(child, { port }, 30_000);
    const url = `http://127.0.0.1:${port}/v1/oauth/token`;
    const body = JSON.stringify({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: 'https://app.example.com/callback', code_verifier: 'y'.repeat(43) });
    const headers = { 'content-type': 'application/json', authorization: 'Basic YmVuY2g6YmVuY2g=' };
    const load: Load = { url, headers, nextBody: null, fixedBody: body };
    return await measure('bare', 'bare node:http, fixed response', load, child.pid!, 'reads body, fixed JSON');
  } finally {
    await stopChild(child);
  }
}

/** The floor (floor-server.ts): the least a durable exchange on Ferry's database can cost. */
async function benchFloor(dialect: 'sqlite' | 'postgres'): Promise<Row> {
  const target: TargetName = dialect === 'sqlite' ? 'floor-sqlite' : 'floor-postgres';
  const count = codesFor(FERRY_MAX_RATE * 2);
  log(`${target}: minting ${count} codes`);
  const prepared = await prepareFerry(dialect, count);
  const port = await freePort();
  const child = ipcChild(path.join(HERE, 'floor-server.ts'), target);
  pipeOutput(child, target);
  try {
    await ipcReady(child, dialect === 'sqlite' ? { port, file: prepared.env.FERRY_DB_FILE } : { port, url: prepared.env.DATABASE_URL }, 30_000);
    const url = `http://127.0.0.1:${port}/v1/oauth/token`;
    const headers = { 'content-type': 'application/json', authorization: prepared.basic };
    const make = (c: MintedCode) => JSON.stringify({ grant_type: 'authorization_code', code: c.code, redirect_uri: prepared.redirectUri, code_verifier: c.verifier });
    await sanityCheck(target, url, headers, make(prepared.codes.pop()!), ['access_token', 'refresh_token']);
    const load: Load = { url, headers, nextBody: codeBodies(prepared.codes, make) };
    const label = dialect === 'sqlite' ? 'floor: node:http + better-sqlite3 (floor-server.ts)' : 'floor: node:http + pg, batched (floor-server.ts)';
    return await measure(target, label, load, child.pid!, 'JSON body', prepared.databaseName);
  } finally {
    await stopChild(child);
    await prepared.cleanup();
  }
}

async function sanityCheck(name: string, url: string, headers: Record<string, string>, body: string, fields: string[]): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${name}: sanity exchange answered ${response.status}: ${text}`);
  const json = JSON.parse(text) as Record<string, unknown>;
  for (const field of fields) if (typeof json[field] !== 'string') throw new Error(`${name}: sanity exchange has no ${field}: ${text}`);
}

// ---------------------------------------------------------------- report

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');

function table(rows: Row[]): string {
  const oidc = rows.find((r) => r.target === 'oidc-provider');
  const oidcIdToken = rows.find((r) => r.target === 'oidc-provider-id-token');
  const lines = [
    '| target | exchanges/s | p50 ms | p90 ms | p99 ms | max ms | 200s | non-200 + errors | server CPU | server µs/exchange | PostgreSQL CPU | machine CPU | other load | × oidc-provider | × oidc-provider + ID token |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const times = (r: Row, base: Row | undefined) => (base === undefined ? '–' : `${fmt(r.rps / base.rps, 2)}×`);
  for (const r of rows) {
    const ratio = `${times(r, oidc)} | ${times(r, oidcIdToken)}`;
    const failures = r.failures === 0 ? '0' : `**${r.failures}** (${r.statuses})`;
    lines.push(
      `| ${r.label}${r.exhausted ? ' (codes ran out!)' : ''} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.ok)} | ${failures} | ${fmt(r.serverCpu)} % | ${fmt((r.serverCpu * 10_000) / r.rps)} | ${r.target === 'ferry-postgres' || r.target === 'floor-postgres' ? `${fmt(r.postgresCpu)} % (${fmt((r.postgresCpu * 10_000) / r.rps)} µs/exchange)` : '–'} | ${fmt(r.machineCpu)} % | ${fmt(r.otherCpu)} % | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

function verdicts(rows: Row[]): string[] {
  const oidc = rows.find((r) => r.target === 'oidc-provider');
  const out: string[] = [];
  for (const [target, factor] of [
    ['ferry-sqlite', 3],
    ['ferry-postgres', 2],
  ] as const) {
    const r = rows.find((x) => x.target === target);
    if (r === undefined) continue;
    const ratio = oidc === undefined ? null : r.rps / oidc.rps;
    const rateOk = ratio !== null && ratio >= factor;
    const p99Ok = r.p99 < 20;
    const clean = r.failures === 0 && !r.exhausted;
    const idToken = rows.find((x) => x.target === 'oidc-provider-id-token');
    const second = idToken === undefined ? '' : ` (${fmt(r.rps / idToken.rps, 2)}× oidc-provider with an ID token: ${r.rps / idToken.rps >= factor ? 'met' : 'missed'} against that one)`;
    out.push(
      `- ${r.label}: ${ratio === null ? 'no oidc-provider figure in this run' : `${fmt(ratio, 2)}× oidc-provider (target ≥ ${factor}×) ${rateOk ? 'met' : '**missed**'}${second}`}; ` +
        `p99 ${fmt(r.p99)} ms (target < 20 ms) ${p99Ok ? 'met' : '**missed**'}; ${clean ? 'no errors' : '**errors or exhausted codes: run invalid**'}.`,
    );
  }
  return out;
}

function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

/** The commit measured, and whether src/ differs from it (others' work in progress would be measured too). */
function revision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} with uncommitted changes in src/` : commit;
  } catch {
    return 'unknown commit';
  }
}

function generated(rows: Row[], command: string): string {
  return [
    BEGIN,
    `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${machineDescription()}; Ferry at ${revision()}.`,
    `${CONNECTIONS} connections, ${WARMUP} s warm-up then ${DURATION} s measured, each request a fresh code.`,
    '',
    '```',
    command,
    '```',
    '',
    table(rows),
    '',
    ...(REPEAT > 1 ? [`Each target measured ${REPEAT} times; the table shows the fastest run. All runs (exchanges/s): ${rows.map((r) => `${r.target} ${r.runs.map((x) => fmt(x)).join(', ')}`).join('; ')}.`, ''] : []),
    'CPU columns: % of one core over the measured run. Server: the process under test (µs/exchange: its CPU time per 200 response, the figure least moved by other load); PostgreSQL: the backends connected to the benchmark database plus the WAL writer, checkpointer and background writer; machine: both cores, load generator included; other load: what none of these used (other work on the shared machine; near 0 for a clean run).',
    '',
    ...verdicts(rows),
    END,
  ].join('\n');
}

function writeResults(block: string): void {
  let text = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(SECTION_TITLE);
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${SECTION_TITLE}\n\n${block}\n`;
  } else {
    const begin = text.indexOf(BEGIN, start);
    const end = text.indexOf(END, start);
    const nextSection = text.indexOf('\n## ', start + SECTION_TITLE.length);
    if (begin !== -1 && end !== -1 && (nextSection === -1 || end < nextSection)) {
      text = text.slice(0, begin) + block + text.slice(end + END.length);
    } else {
      const insertAt = start + SECTION_TITLE.length;
      text = `${text.slice(0, insertAt)}\n\n${block}${text.slice(insertAt)}`;
    }
  }
  fs.writeFileSync(RESULTS_FILE, text);
}

// ---------------------------------------------------------------- main

// The command as recorded: where the figures were written to is not part of how they were made.
const recorded = process.argv.slice(2).filter((a, i, all) => a !== '--no-write' && !a.startsWith('--results') && all[i - 1] !== '--results');
const command = `npx tsx bench/token/run.ts ${recorded.join(' ')}`.trim();
log(`token benchmark: ${selected.join(', ')}; ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s each; ${machineDescription()}`);
const rows: Row[] = [];
for (const target of selected) {
  log(`\n== ${target}`);
  const row =
    target === 'ferry-sqlite' ? await benchFerry('sqlite')
    : target === 'ferry-postgres' ? await benchFerry('postgres')
    : target === 'oidc-provider' ? await benchOidcProvider(null)
    : target === 'oidc-provider-id-token' ? await benchOidcProvider('RS256')
    : target === 'floor-sqlite' ? await benchFloor('sqlite')
    : target === 'floor-postgres' ? await benchFloor('postgres')
    : await benchBare();
  log(`${target}: ${fmt(row.rps)}/s, p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms, failures ${row.failures}, server CPU ${fmt(row.serverCpu)} %`);
  rows.push(row);
}
const block = generated(rows, command);
process.stdout.write(`\n${table(rows)}\n\n${verdicts(rows).join('\n')}\n`);
// The block is also kept under bench/out/ (not committed), so a --no-write run can still be pasted.
fs.mkdirSync(path.join(ROOT, 'bench', 'out'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'bench', 'out', 'token-last.md'), `${block}\n`);
if (!args['no-write']) {
  writeResults(block);
  log(`\nwritten to ${path.relative(ROOT, RESULTS_FILE)}`);
}

/**
 * A Ferry deployment on loopback for the load, fault and soak benchmarks (issue 8): a fresh
 * PostgreSQL database, two (or more) `ferry start` processes on their own ports, the round-robin
 * proxy in front of them (PUBLIC_URL is the proxy's URL), an app registered with the CLI and,
 * when asked, a webhook receiver. Plus what the scripts measure the processes with: CPU time and
 * RSS from /proc, the PostgreSQL backends' CPU, and the results file.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const OUT_DIR = path.join(ROOT, 'bench', 'out', 'issue8');
/** The machine's PostgreSQL (trust auth), where each benchmark creates and drops its own database. */
export const POSTGRES_ADMIN_URL = process.env.FERRY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  await admin(async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  return databaseUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`drop database if exists ${name} with (force)`));
}

// ---------------------------------------------------------------- /proc

/** CPU seconds (user + system) a process has used, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident set size in MB (VmRSS), or null when the process is gone. */
export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) / 1024;
  } catch {
    return null;
  }
}

export function machineTicks(): { busy: number; total: number } {
  const numbers = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = numbers.reduce((a, b) => a + b, 0);
  return { busy: total - (numbers[3] ?? 0) - (numbers[4] ?? 0), total };
}

/** A shared machine: wait (up to `maxMs`) until others use less than a quarter of one core. */
export async function waitForQuiet(maxMs = 60_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const before = machineTicks();
    await sleep(1000);
    const after = machineTicks();
    const busy = ((after.busy - before.busy) / (after.total - before.total)) * os.cpus().length * 100;
    if (busy < 25 || Date.now() > deadline) return busy;
  }
}

// ---------------------------------------------------------------- the processes

export interface FerryEnvOptions {
  databaseUrl: string;
  publicUrl: string;
  /** FERRY_ONE_TIME_RETENTION, e.g. `60s`; Ferry's default (24 h) when absent. */
  retention?: string;
}

export function ferryEnv(options: FerryEnvOptions, port?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    PUBLIC_URL: options.publicUrl,
    HOST: '127.0.0.1',
    FERRY_RATE_LIMITS: 'false',
    FERRY_DEMO: 'false',
    FERRY_TRUST_PROXY: '1',
    // FERRY_BENCH_LOG_LEVEL: the Ferry processes' log level (warn by default: error lines are counted).
    LOG_LEVEL: process.env.FERRY_BENCH_LOG_LEVEL ?? 'warn',
  };
  if (port !== undefined) env.PORT = String(port);
  // FERRY_BENCH_NODE_OPTIONS: Node flags for the Ferry processes only (e.g. --max-old-space-size=128).
  if (process.env.FERRY_BENCH_NODE_OPTIONS !== undefined) env.NODE_OPTIONS = process.env.FERRY_BENCH_NODE_OPTIONS;
  if (options.retention !== undefined) env.FERRY_ONE_TIME_RETENTION = options.retention;
  else delete env.FERRY_ONE_TIME_RETENTION;
  return env;
}

/** `node bin/ferry.js …` to the end; its stdout. */
export async function ferryCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'ferry.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`ferry ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  return stdout;
}

/** One `ferry start` process on its own port, its output in a log file. */
export class FerryProcess {
  child: ChildProcess | null = null;
  /** Every pid this slot has had (a restart gets a new one). */
  readonly pids: number[] = [];
  readonly logFile: string;
  private log: fs.WriteStream | null = null;

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    logName: string,
    /** Node flags before the script, and the script that is `ferry` (bin/ferry.js by default). */
    private readonly launch: { nodeArgs?: string[]; entry?: string } = {},
  ) {
    this.logFile = path.join(OUT_DIR, `${logName}-ferry-${index}.log`);
  }

  get pid(): number | null {
    return this.child?.exitCode === null && this.child.signalCode === null ? (this.child.pid ?? null) : null;
  }

  /** Starts it and waits until /readyz answers 200 (at most 30 s). */
  async start(): Promise<number> {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    this.log ??= fs.createWriteStream(this.logFile, { flags: 'a' });
    const started = performance.now();
    // FERRY_BENCH_PROFILE=1: each Ferry process writes a CPU profile under bench/out/issue8/profiles/ when it stops.
    const profile = process.env.FERRY_BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(OUT_DIR, 'profiles')}`] : [];
    const args = [...profile, ...(this.launch.nodeArgs ?? []), this.launch.entry ?? path.join(ROOT, 'bin', 'ferry.js'), 'start'];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    this.child = child;
    this.pids.push(child.pid!);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Ferry ${this.index} exited with ${child.exitCode} at start; see ${this.logFile}`);
      if ((await probe(this.port, '/readyz')) === 200) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error(`Ferry ${this.index} not ready within 30 s; see ${this.logFile}`);
      await sleep(50);
    }
  }

  /** SIGKILL: no shutdown, connections and jobs in hand dropped. */
  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  closeLog(): void {
    this.log?.end();
  }

  /** Log lines at level error or fatal (pino levels 50, 60) so far: a 500 or a crash leaves one. */
  errorLines(): string[] {
    try {
      return fs
        .readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l));
    } catch {
      return [];
    }
  }
}

/** GET `path` on a port: the status, or 0 when nothing answered within 3 s. */
export async function probe(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<number> {
  return (await probeAnswer(port, urlPath, headers)).status;
}

/** GET `path` on a port (JSON asked for): the status and `Retry-After` ('' when absent); status 0 when nothing answered within 3 s. */
export function probeAnswer(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string }> {
  return new Promise((resolve) => {
    const request = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (status: number, retryAfter = '') => {
      request.destroy();
      resolve({ status, retryAfter });
    };
    request.setTimeout(3000, () => done(0));
    request.on('error', () => done(0));
    request.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      request.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\naccept: application/json\r\n${extra}connection: close\r\n\r\n`);
    });
    request.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = data.slice(0, end);
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      done(match === null ? 0 : Number(match[1]), /\r\nretry-after:\s*([^\r]*)/i.exec(head)?.[1]?.trim() ?? '');
    });
  });
}

interface Forked {
  child: ChildProcess;
  port: number;
  ask<T>(message: string, key: string): Promise<T>;
}

async function forkHelper(file: string, args: string[]): Promise<Forked> {
  const child = fork(path.join(HERE, file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return {
    child,
    port,
    ask: <T>(message: string, key: string) =>
      new Promise<T>((resolve) => {
        const listener = (m: unknown) => {
          const value = (m as Record<string, unknown>)[key];
          if (value === undefined) return;
          child.off('message', listener);
          resolve(value as T);
        };
        child.on('message', listener);
        child.send(message);
      }),
  };
}

export interface ProxyStats {
  requests: number;
  refusedRetried: number;
  badGateway: number;
  noBackend: number;
  perBackend: Record<string, number>;
}

export interface ReceiverSummary {
  received: number;
  unique: number;
  duplicates: number;
  withoutId: number;
  byEvent: Record<string, number>;
}

export interface DeploymentOptions {
  /** The database's name (created fresh, dropped at the end) and the log files' prefix. */
  name: string;
  processes?: number;
  retention?: string;
  /** Register the app with a webhook URL to a receiver in its own process. */
  webhooks?: boolean;
  /** Node flags for the Ferry processes (before the script). */
  nodeArgs?: string[];
  /** The `ferry` script the processes run (bin/ferry.js by default). */
  entry?: string;
  /** Extra environment for the Ferry processes, e.g. FERRY_MEMORY_PROBE_PORT (given the process index). */
  extraEnv?: (index: number) => NodeJS.ProcessEnv;
}

export interface BenchApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The whole deployment: database, Ferry processes, proxy, app, receiver. `stop()` removes all of it. */
export class Deployment {
  ferries: FerryProcess[] = [];
  proxy: Forked | null = null;
  receiver: Forked | null = null;
  app!: BenchApp;
  databaseUrl = '';
  proxyPort = 0;
  /** Inspection connection (the scripts' own queries: job states, deadlines, sync times). */
  inspector: pg.Pool | null = null;

  constructor(readonly options: DeploymentOptions) {}

  get env(): NodeJS.ProcessEnv {
    return ferryEnv({ databaseUrl: this.databaseUrl, publicUrl: `http://127.0.0.1:${this.proxyPort}`, ...(this.options.retention !== undefined ? { retention: this.options.retention } : {}) });
  }

  async start(): Promise<void> {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    for (const suffix of Array.from({ length: this.options.processes ?? 2 }, (_, i) => i)) fs.rmSync(path.join(OUT_DIR, `${this.options.name}-ferry-${suffix}.log`), { force: true });
    this.databaseUrl = await createDatabase(this.options.name);
    this.proxyPort = await freePort();
    if (this.options.webhooks) this.receiver = await forkHelper('webhook-receiver.ts', []);
    const redirectUri = 'http://127.0.0.1:9/cb';
    const createArgs = ['apps', 'create', '--name', 'Bench', '--redirect-uri', redirectUri, '--json'];
    if (this.receiver !== null) createArgs.push('--webhook-url', `http://127.0.0.1:${this.receiver.port}/hooks/aiia`, '--webhook-secret', 'whsec_bench_issue8');
    const created = JSON.parse(await ferryCli(createArgs, this.env)) as { clientId: string; clientSecret: string };
    this.app = { clientId: created.clientId, clientSecret: created.clientSecret, redirectUri };
    const ports: number[] = [];
    for (let i = 0; i < (this.options.processes ?? 2); i++) ports.push(await freePort());
    const launch = { ...(this.options.nodeArgs !== undefined ? { nodeArgs: this.options.nodeArgs } : {}), ...(this.options.entry !== undefined ? { entry: this.options.entry } : {}) };
    this.ferries = ports.map((port, i) => new FerryProcess(i, port, { ...this.env, ...this.options.extraEnv?.(i), PORT: String(port) }, this.options.name, launch));
    await Promise.all(this.ferries.map((f) => f.start()));
    this.proxy = await forkHelper('round-robin-proxy.ts', [String(this.proxyPort), ...ports.map(String)]);
    this.inspector = new pg.Pool({ connectionString: this.databaseUrl, max: 2 });
    this.inspector.on('error', () => {});
  }

  async query<T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.inspector!.query(text, params)).rows as T[];
  }

  proxyStats(): Promise<ProxyStats> {
    return this.proxy!.ask<ProxyStats>('stats', 'stats');
  }

  receiverSummary(): Promise<ReceiverSummary> {
    return this.receiver!.ask<ReceiverSummary>('summary', 'summary');
  }

  receiverIds(): Promise<string[]> {
    return this.receiver!.ask<string[]>('ids', 'ids');
  }

  /** The PostgreSQL processes that work for this deployment: its database's backends and the shared writers. */
  async postgresPids(): Promise<number[]> {
    const rows = await this.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() or backend_type in ('walwriter', 'checkpointer', 'background writer')`,
    );
    return rows.map((r) => Number(r.pid));
  }

  async stop(): Promise<void> {
    await Promise.all(this.ferries.map((f) => f.stop()));
    for (const f of this.ferries) f.closeLog();
    this.proxy?.child.kill();
    this.receiver?.child.kill();
    await this.inspector?.end().catch(() => {});
    this.inspector = null;
    if (process.env.FERRY_BENCH_KEEP_DATABASE !== '1') await dropDatabase(this.options.name).catch(() => {});
  }
}

// ---------------------------------------------------------------- CPU accounting

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number };
  ferry: (number | null)[];
  proxy: number | null;
  self: NodeJS.CpuUsage;
  postgres: Map<number, number>;
  /** This database's counters from pg_stat_database (statements in autocommit count one transaction each). */
  database: DatabaseCounters;
}

export interface DatabaseCounters {
  transactions: number;
  inserted: number;
  updated: number;
  deleted: number;
  read: number;
}

export async function cpuSnapshot(deployment: Deployment): Promise<CpuSnapshot> {
  const postgres = new Map<number, number>();
  for (const pid of await deployment.postgresPids()) {
    const cpu = cpuSeconds(pid);
    if (cpu !== null) postgres.set(pid, cpu);
  }
  const [stats] = await deployment.query<Record<string, string>>(
    `select xact_commit + xact_rollback as transactions, tup_inserted as inserted, tup_updated as updated, tup_deleted as deleted, tup_returned + tup_fetched as read
       from pg_stat_database where datname = current_database()`,
  );
  return {
    database: { transactions: Number(stats?.transactions), inserted: Number(stats?.inserted), updated: Number(stats?.updated), deleted: Number(stats?.deleted), read: Number(stats?.read) },
    at: performance.now(),
    machine: machineTicks(),
    ferry: deployment.ferries.map((f) => (f.pid === null ? null : cpuSeconds(f.pid))),
    proxy: cpuSeconds(deployment.proxy!.child.pid!),
    self: process.cpuUsage(),
    postgres,
  };
}

/** CPU used between two snapshots, in % of one core, by component. */
export interface CpuUse {
  ferry: number[];
  proxy: number;
  loadGenerator: number;
  postgres: number;
  machine: number;
  other: number;
  database: DatabaseCounters;
}

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const pct = (cpu: number) => (cpu / seconds) * 100;
  const ferry = after.ferry.map((cpu, i) => (cpu === null || before.ferry[i] === null ? NaN : pct(cpu - before.ferry[i]!)));
  const proxy = pct((after.proxy ?? 0) - (before.proxy ?? 0));
  const self = process.cpuUsage(before.self);
  const loadGenerator = pct((self.user + self.system) / 1e6);
  let pgCpu = 0;
  for (const [pid, cpu] of after.postgres) pgCpu += cpu - (before.postgres.get(pid) ?? 0);
  const postgres = pct(pgCpu);
  const machine = ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * os.cpus().length * 100;
  const ours = ferry.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0) + proxy + loadGenerator + postgres;
  const database = Object.fromEntries(Object.entries(after.database).map(([k, v]) => [k, v - before.database[k as keyof DatabaseCounters]])) as unknown as DatabaseCounters;
  return { ferry, proxy, loadGenerator, postgres, machine, other: Math.max(0, machine - ours), database };
}

// ---------------------------------------------------------------- numbers and the results file

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

export function latencyTable(rows: [string, number[]][]): string {
  const lines = ['| | count | p50 ms | p90 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|---:|'];
  for (const [name, values] of rows) {
    const sorted = [...values].sort((a, b) => a - b);
    lines.push(`| ${name} | ${sorted.length} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 90))} | ${ms(percentile(sorted, 99))} | ${ms(sorted.at(-1) ?? Number.NaN)} |`);
  }
  return lines.join('\n');
}

/** How the script was run, for the results: `npx tsx <script> <args>`, with the Ferry processes' Node flags when set. */
export function commandLine(script: string): string {
  const env = process.env.FERRY_BENCH_NODE_OPTIONS !== undefined ? `FERRY_BENCH_NODE_OPTIONS='${process.env.FERRY_BENCH_NODE_OPTIONS}' ` : '';
  const argv = process.argv.slice(2);
  return `${env}npx tsx ${script}${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores (nproc), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, PostgreSQL 15 on the same machine`;
}

const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md');
export const SECTION_TITLE = '## Load and faults (issue 8)';

/**
 * Writes one script's block into the issue-8 section of bench/RESULTS.md (between its own
 * markers), creating the section at the end of the file when it is missing. Other sections and
 * the section's hand-written text are left alone.
 */
export function writeResultsBlock(script: string, text: string): void {
  const begin = `<!-- ${script}: begin -->`;
  const end = `<!-- ${script}: end -->`;
  const block = `${begin}\n${text.trim()}\n${end}`;
  let current = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : '# Benchmark results\n';
  const b = current.indexOf(begin);
  const e = current.indexOf(end);
  if (b !== -1 && e > b) {
    current = `${current.slice(0, b)}${block}${current.slice(e + end.length)}`;
  } else {
    let sectionAt = current.indexOf(`${SECTION_TITLE}\n`);
    if (sectionAt === -1) {
      current = `${current.trimEnd()}\n\n${SECTION_TITLE}\n`;
      sectionAt = current.indexOf(`${SECTION_TITLE}\n`);
    }
    const nextSection = current.indexOf('\n## ', sectionAt + SECTION_TITLE.length);
    const at = nextSection === -1 ? current.length : nextSection + 1;
    const before = current.slice(0, at).trimEnd();
    current = `${before}\n\n${block}\n${nextSection === -1 ? '' : `\n${current.slice(at)}`}`;
  }
  fs.writeFileSync(RESULTS_FILE, current);
}

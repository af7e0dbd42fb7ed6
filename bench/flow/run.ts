/**
 * Hosted-flow benchmark (issue 4): simulated users walk the one-time flow over plain HTTP, as a
 * browser without JavaScript would (connect → start → consent → bank → password login → accounts
 * → done → Accept), against a real Ferry on SQLite in a child process (bench/flow/server.ts).
 *
 *   1. open loop: users arrive at --rate per second for --duration seconds, each walking the flow
 *      as fast as Ferry answers; reports users per second brought to the app's redirect (with a
 *      code), latency per request and per step (the step's page and its form post), errors;
 *   2. closed loop: --concurrency users walk back to back for --max-duration seconds: the most
 *      users per second this machine takes through the flow.
 *
 *   npx tsx bench/flow/run.ts [--rate 150] [--duration 20] [--warmup 5] [--concurrency 32] [--workers 1]
 *                             [--max-duration 15] [--no-write]
 *
 * Writes its tables into bench/RESULTS.md (section "Hosted flow (issue 4)") and exits non-zero
 * when the target is missed: at least 150 users/s, no errors, p99 under 50 ms per step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FLOW_REQUESTS, FLOW_STEPS, sendRequest, WalkError, walkFlow, type Answer, type FlowRequestName } from '../lib/flow-walk.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md');
const SECTION_TITLE = '## Hosted flow (issue 4)';
const BEGIN = '<!-- bench/flow/run.ts: begin -->';
const END = '<!-- bench/flow/run.ts: end -->';

const TARGET_USERS_PER_SECOND = 150;
const TARGET_STEP_P99_MS = 50;

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: String(TARGET_USERS_PER_SECOND) },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    'max-duration': { type: 'string', default: '15' },
    workers: { type: 'string', default: '1' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const MAX_DURATION = Number(args['max-duration']);
const WORKERS = Number(args.workers);
if (!Number.isInteger(WORKERS) || WORKERS < 1) throw new Error('--workers must be a whole number of at least 1');
if (WARMUP + DURATION + MAX_DURATION > 60) throw new Error('the benchmark is bounded to 60 seconds of load: shorten --warmup, --duration or --max-duration');

/** The requests of one walk, in order, and its steps (a step is its page and its form post): bench/lib/flow-walk.ts. */
const REQUESTS = FLOW_REQUESTS;
type RequestName = FlowRequestName;
const STEPS = FLOW_STEPS;

// ---------------------------------------------------------------- the server

interface Target {
  child: ChildProcess;
  port: number;
  clientId: string;
  redirectUri: string;
}

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

async function startFerry(): Promise<Target> {
  const port = await freePort();
  // FERRY_BENCH_PROFILE=1: a CPU profile of the Ferry process lands in bench/out/flow-profile/.
  const profile = process.env.FERRY_BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench', 'out', 'flow-profile')}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(HERE, 'server.ts')], { cwd: ROOT, env: { ...process.env, PORT: String(port), FLOW_BENCH_WORKERS: String(WORKERS) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<{ clientId: string; redirectUri: string }>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as { clientId: string; redirectUri: string });
    });
    child.once('exit', (code) => reject(new Error(`the Ferry child exited with code ${code}`)));
    setTimeout(() => reject(new Error('the Ferry child did not start within 30 s')), 30_000).unref();
  });
  return { child, port, ...ready };
}

async function stopFerry(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return;
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  await exited;
}

/** CPU seconds used so far by the process and its live children (the cluster's workers). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let seconds = (Number(fields[11]) + Number(fields[12])) / 100;
  for (const child of childPids(pid)) seconds += cpuSeconds(child);
  return seconds;
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/))
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function machineTicks(): { busy: number; total: number } {
  const numbers = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = numbers.reduce((a, b) => a + b, 0);
  return { busy: total - (numbers[3] ?? 0) - (numbers[4] ?? 0), total };
}

/** Share of the machine (in % of one core) used meanwhile by neither Ferry nor this load generator. */
function otherLoad(before: { machine: { busy: number; total: number }; ferry: number; self: NodeJS.CpuUsage }, pid: number, seconds: number): number {
  const after = machineTicks();
  const machine = ((after.busy - before.machine.busy) / (after.total - before.machine.total)) * os.cpus().length * seconds;
  const self = process.cpuUsage(before.self);
  return Math.max(0, ((machine - (cpuSeconds(pid) - before.ferry) - (self.user + self.system) / 1e6) / seconds) * 100);
}

/** A shared machine: wait (up to a minute) until others use less than a quarter of one core. */
async function waitForQuiet(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = machineTicks();
    const busy = ((after.busy - before.busy) / (after.total - before.total)) * os.cpus().length * 100;
    if (busy < 25) return;
    if (Date.now() > deadline) {
      process.stderr.write(`the machine is still busy (${busy.toFixed(0)} % of a core used by others); measuring anyway\n`);
      return;
    }
  }
}

// ---------------------------------------------------------------- one user

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function send(port: number, method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return sendRequest(agent, port, method, url, headers, body);
}

class Recorder {
  readonly latencies = new Map<RequestName, number[]>(REQUESTS.map((r) => [r, []]));
  readonly stepLatencies = new Map<string, number[]>(STEPS.map((s) => [s.name, []]));
  readonly errors = new Map<string, number>();
  completed = 0;
  started = 0;

  error(reason: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }
}

/** One user through the whole flow (bench/lib/flow-walk.ts); every answer is checked, as a browser would need it. */
async function walk(target: Target, user: number, recorder: Recorder | null): Promise<void> {
  const { timings } = await walkFlow(target, user, (method, url, headers, body) => send(target.port, method, url, headers, body));
  if (recorder !== null) {
    for (const [name, ms] of timings) recorder.latencies.get(name)!.push(ms);
    for (const step of STEPS) recorder.stepLatencies.get(step.name)!.push(step.requests.reduce((sum, r) => sum + (timings.get(r) ?? 0), 0));
    recorder.completed++;
  }
}

async function walkRecorded(target: Target, user: number, recorder: Recorder | null): Promise<void> {
  if (recorder !== null) recorder.started++;
  try {
    await walk(target, user, recorder);
  } catch (error) {
    recorder?.error(error instanceof WalkError ? error.message : `network: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------- load shapes

let nextUser = 0;

/** Users arrive at `rate` per second, whatever happened to the ones before (open loop). */
async function openLoop(target: Target, rate: number, seconds: number, recorder: Recorder | null): Promise<number> {
  const interval = 1000 / rate;
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let launched = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor((performance.now() - started) / interval) + 1;
    while (launched < due) {
      launched++;
      const p = walkRecorded(target, nextUser++, recorder).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, interval / 2)));
  }
  await Promise.all(inFlight);
  return (performance.now() - started) / 1000;
}

/** `concurrency` users walk back to back until the time is up (closed loop): the most this machine takes. */
async function closedLoop(target: Target, concurrency: number, seconds: number, recorder: Recorder): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await walkRecorded(target, nextUser++, recorder);
    }),
  );
  return (performance.now() - started) / 1000;
}

// ---------------------------------------------------------------- report

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

function latencyTable(rows: [string, number[]][]): string {
  const lines = ['| | p50 ms | p90 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|'];
  for (const [name, values] of rows) {
    const sorted = [...values].sort((a, b) => a - b);
    lines.push(`| ${name} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 90))} | ${ms(percentile(sorted, 99))} | ${ms(sorted.at(-1) ?? Number.NaN)} |`);
  }
  return lines.join('\n');
}

function worstStepP99(recorder: Recorder): number {
  return Math.max(...[...recorder.stepLatencies.values()].map((v) => percentile([...v].sort((a, b) => a - b), 99)));
}

function errorsText(recorder: Recorder): string {
  return recorder.errorCount === 0 ? 'none' : [...recorder.errors].map(([reason, n]) => `${reason} ×${n}`).join(', ');
}

function writeResults(section: string): void {
  const current = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : '# Benchmark results\n';
  const block = `${BEGIN}\n${SECTION_TITLE}\n\n${section.trim()}\n${END}`;
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next = begin !== -1 && end > begin ? `${current.slice(0, begin)}${block}${current.slice(end + END.length)}` : `${current.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(RESULTS_FILE, next);
}

// ---------------------------------------------------------------- main

const target = await startFerry();
try {
  process.stderr.write(`Ferry (SQLite) listening on ${target.port}; warming up ${WARMUP} s\n`);
  await openLoop(target, Math.min(RATE, 100), WARMUP, null);

  const pid = target.child.pid!;
  const snapshot = () => ({ machine: machineTicks(), ferry: cpuSeconds(pid), self: process.cpuUsage() });

  await waitForQuiet();
  const open = new Recorder();
  const openBefore = snapshot();
  process.stderr.write(`open loop: ${RATE} users/s for ${DURATION} s\n`);
  const openSeconds = await openLoop(target, RATE, DURATION, open);
  const openCpu = ((cpuSeconds(pid) - openBefore.ferry) / openSeconds) * 100;
  const openOther = otherLoad(openBefore, pid, openSeconds);
  const openRate = open.completed / openSeconds;

  const closed = new Recorder();
  const closedBefore = snapshot();
  process.stderr.write(`closed loop: ${CONCURRENCY} users at a time for ${MAX_DURATION} s\n`);
  const closedSeconds = await closedLoop(target, CONCURRENCY, MAX_DURATION, closed);
  const closedCpu = ((cpuSeconds(pid) - closedBefore.ferry) / closedSeconds) * 100;
  const closedOther = otherLoad(closedBefore, pid, closedSeconds);
  const closedRate = closed.completed / closedSeconds;

  const stepP99 = worstStepP99(open);
  const met = openRate >= TARGET_USERS_PER_SECOND && open.errorCount === 0 && closed.errorCount === 0 && stepP99 < TARGET_STEP_P99_MS;
  const requestsPerUser = REQUESTS.length;
  const section = `
Simulated users walk the one-time flow over plain HTTP (no browser, no JavaScript: the pages and
form posts a browser makes, each answer checked, cookies and CSRF tokens carried): connect, start,
consent, bank (\`TestDataBank1\`), password login, share the first account, Accept, ending at the
app's redirect with a code: ${requestsPerUser} requests per user. Ferry runs ${WORKERS === 1 ? 'in its own process' : `as ${WORKERS} processes sharing the port (node:cluster, as \`ferry start --workers ${WORKERS}\`)`} on a
fresh SQLite file, rate limits off, request logging on (info, to /dev/null); the background sync each
new consent queues is not started (it has its own benchmark). Loopback, keep-alive connections.

    npx tsx bench/flow/run.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}

Machine: ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; measured ${new Date().toISOString().slice(0, 10)}.
The load generator shares the machine with Ferry; the run waits (up to a minute) for the machine to be quiet.

**Open loop, ${RATE} users arriving per second for ${DURATION} s:** ${open.completed} of ${open.started} users reached the
app's redirect, **${openRate.toFixed(1)} users/s**; errors: ${errorsText(open)}; Ferry used ${openCpu.toFixed(0)} % of one core
(other work on the machine meanwhile: ${openOther.toFixed(0)} % of a core)${WORKERS > 1 ? ' (Ferry: all its processes)' : ''}.

Per step (the step's page and its form post, as the user waits for them):

${latencyTable(STEPS.map((s) => [s.name, open.stepLatencies.get(s.name)!]))}

Per request:

${latencyTable(REQUESTS.map((r) => [r, open.latencies.get(r)!]))}

**Closed loop, ${CONCURRENCY} users at a time for ${MAX_DURATION} s (the most this machine takes):**
**${closedRate.toFixed(1)} users/s** (${(closedRate * requestsPerUser).toFixed(0)} requests/s); errors: ${errorsText(closed)};
worst step p99 ${ms(worstStepP99(closed))} ms; Ferry used ${closedCpu.toFixed(0)} % of one core (other work: ${closedOther.toFixed(0)} %).

Target (issue 4): at least ${TARGET_USERS_PER_SECOND} users/s to the redirect, no errors, p99 under ${TARGET_STEP_P99_MS} ms per step:
**${met ? 'met' : 'missed'}** (worst step p99 at ${RATE} users/s: ${ms(stepP99)} ms).
`;
  process.stdout.write(`${section}\n`);
  if (!args['no-write']) writeResults(section);
  process.exitCode = met ? 0 : 1;
} finally {
  agent.destroy();
  await stopFerry(target);
}

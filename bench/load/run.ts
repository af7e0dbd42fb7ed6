/**
 * Load benchmark (issue 8): two `ferry start` processes on one PostgreSQL database behind a
 * per-request round-robin proxy on loopback (bench/lib/ferry-cluster.ts). Simulated users walk the
 * whole one-time flow, the app exchanges the code and reads the accounts and one transactions page
 * (bench/lib/simulated-users.ts); a user's requests land on both processes in turn.
 *
 *   1. closed loop: --concurrency users back to back for --max-duration seconds, --repeat times (the
 *      best counts: the machine is shared): the most flows per second the deployment takes here;
 *   2. open loop: users arrive at --rate per second for --duration seconds: flows per second to
 *      the app's data, p50/p99 per step, errors (must be zero);
 *   3. the first syncs those flows queued drain; time from consent to `syncStatus: Finished`.
 *
 *   npx tsx bench/load/run.ts [--rate 200] [--duration 30] [--warmup 5] [--concurrency 48]
 *                             [--max-duration 20] [--repeat 3] [--drain 120] [--open-share 0.5] [--no-write]
 *
 * When --rate is beyond the closed loop's peak, the open loop runs at --open-share of the peak.
 *
 * Bounded: warm-up + the loops at most 180 s of load, the drain at most --drain seconds. Writes its
 * block into bench/RESULTS.md ("Load and faults (issue 8)") and exits non-zero when the target
 * (--rate flows/s in the open loop, no errors) is missed.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import {
  commandLine,
  cpuSnapshot,
  cpuUse,
  Deployment,
  latencyTable,
  machineLine,
  ms,
  percentile,
  sleep,
  waitForQuiet,
  writeResultsBlock,
  type CpuUse,
} from '../lib/ferry-cluster.js';
import { closedLoop, journey, JOURNEY_REQUESTS, JOURNEY_STEPS, JourneyRecorder, openLoop, reloadingTransport, type JourneyTarget, type LoopReport } from '../lib/simulated-users.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '48' },
    'max-duration': { type: 'string', default: '20' },
    drain: { type: 'string', default: '120' },
    'no-write': { type: 'boolean', default: false },
    'skip-closed': { type: 'boolean', default: false },
    'open-share': { type: 'string', default: '0.5' },
    repeat: { type: 'string', default: '3' },
  },
});
const TARGET = 200;
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const MAX_DURATION = Number(args['max-duration']);
const DRAIN = Number(args.drain);
/** When --rate is beyond the closed loop's peak, the open loop runs at this share of the peak instead. */
const OPEN_SHARE = Number(args['open-share']);
const REPEAT = Number(args.repeat);
if (WARMUP + DURATION + Number(args.repeat) * Number(args['max-duration']) > 180) throw new Error('bounded to 180 s of load: shorten --warmup, --duration, --repeat or --max-duration');

const deployment = new Deployment({ name: 'ferry_bench_load' });
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });

interface Phase {
  recorder: JourneyRecorder;
  loop: LoopReport;
  cpu: CpuUse;
}

async function measured(run: (recorder: JourneyRecorder) => Promise<LoopReport>): Promise<Phase> {
  const recorder = new JourneyRecorder();
  const before = await cpuSnapshot(deployment);
  const loop = await run(recorder);
  const cpu = cpuUse(before, await cpuSnapshot(deployment));
  return { recorder, loop, cpu };
}

function cpuLine(phase: Phase): string {
  const c = phase.cpu;
  const perFlow = (pct: number) => ((pct / 100) * phase.loop.seconds * 1000) / Math.max(1, phase.recorder.completed);
  const ferry = c.ferry.reduce((a, b) => a + b, 0);
  const perCount = (n: number) => (n / Math.max(1, phase.recorder.completed)).toFixed(0);
  return (
    `CPU, in % of one core (of 200 %): Ferry ${c.ferry.map((f) => f.toFixed(0)).join(' + ')} %, PostgreSQL ${c.postgres.toFixed(0)} %, proxy ${c.proxy.toFixed(0)} %, ` +
    `load generator ${c.loadGenerator.toFixed(0)} %, machine ${c.machine.toFixed(0)} % (other work on the machine: ${c.other.toFixed(0)} %). ` +
    `Per completed flow: Ferry ${perFlow(ferry).toFixed(1)} ms, PostgreSQL ${perFlow(c.postgres).toFixed(1)} ms, proxy ${perFlow(c.proxy).toFixed(1)} ms, load generator ${perFlow(c.loadGenerator).toFixed(1)} ms of CPU; ` +
    `PostgreSQL ${perCount(c.database.transactions)} transactions (a statement outside a transaction counts as one), ${perCount(c.database.inserted)} rows inserted, ${perCount(c.database.updated)} updated, ${perCount(c.database.read)} read.`
  );
}

async function syncQueue(): Promise<{ pending: number; running: number; done: number; failed: number }> {
  const rows = await deployment.query<{ status: string; n: string }>(`select status, count(*) as n from jobs where kind = 'sync' group by status`);
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  return { pending: by.pending ?? 0, running: by.running ?? 0, done: by.done ?? 0, failed: by.failed ?? 0 };
}

/** Consent to `Finished`, in ms, for the consents these journeys created (accounts' created_at → last_synchronized). */
async function timeToFinished(consentIds: string[]): Promise<{ finished: number[]; unfinished: number }> {
  const rows = await deployment.query<{ ms: string | null }>(
    `select (last_synchronized - created_at) as ms from accounts where consent_id = any($1::text[])`,
    [consentIds],
  );
  const finished = rows.filter((r) => r.ms !== null).map((r) => Number(r.ms));
  return { finished, unfinished: rows.length - finished.length };
}

/** Waits (at most `seconds`) until no sync job is queued; the drain's time and the CPU per sync meanwhile. */
async function drainSyncs(seconds: number): Promise<Drain> {
  const started = performance.now();
  const atStop = await syncQueue();
  const before = await cpuSnapshot(deployment);
  let queue = atStop;
  while (queue.pending + queue.running > 0 && performance.now() - started < seconds * 1000) {
    await sleep(500);
    queue = await syncQueue();
  }
  const cpu = cpuUse(before, await cpuSnapshot(deployment));
  const elapsed = (performance.now() - started) / 1000;
  const synced = queue.done - atStop.done;
  const perSync = (pct: number) => ((pct / 100) * elapsed * 1000) / Math.max(1, synced);
  return {
    queuedAtStop: atStop.pending + atStop.running,
    left: queue.pending + queue.running,
    failed: queue.failed,
    seconds: elapsed,
    synced,
    ferryMsPerSync: perSync(cpu.ferry.reduce((a, b) => a + b, 0)),
    postgresMsPerSync: perSync(cpu.postgres),
  };
}

interface Drain {
  queuedAtStop: number;
  left: number;
  failed: number;
  seconds: number;
  synced: number;
  ferryMsPerSync: number;
  postgresMsPerSync: number;
}

function drainLine(drain: Drain, flows: number, loadSeconds: number): string {
  const sustained = flows / (loadSeconds + drain.seconds);
  return drain.left > 0
    ? `**${drain.left} first syncs still queued after ${drain.seconds.toFixed(0)} s** (${drain.queuedAtStop} when the load stopped)`
    : `${drain.queuedAtStop} first syncs were still queued when the load stopped and drained ${drain.seconds.toFixed(1)} s later ` +
        `(${drain.synced} syncs, ${drain.ferryMsPerSync.toFixed(1)} ms of Ferry CPU and ${drain.postgresMsPerSync.toFixed(1)} ms of PostgreSQL CPU each while draining): ` +
        `${flows} flows with their data synced in ${(loadSeconds + drain.seconds).toFixed(1)} s is **${sustained.toFixed(1)} flows/s sustained**`;
}

try {
  process.stderr.write('starting PostgreSQL database, 2 Ferry processes, proxy\n');
  await deployment.start();
  const target: JourneyTarget = { port: deployment.proxyPort, ...deployment.app };
  const go = (recorder: JourneyRecorder | null) => (user: number) => journey(target, user, reloadingTransport(agent, deployment.proxyPort, recorder), recorder);

  process.stderr.write(`warming up ${WARMUP} s\n`);
  await openLoop(go(null), 20, WARMUP);
  await drainSyncs(DRAIN);
  const quietClosed = await waitForQuiet();

  // The closed loop runs --repeat times (the machine is shared: others' work comes and goes); the best run is the peak.
  let closed: Phase | null = null;
  let closedDrain: Drain | null = null;
  const closedRuns: { rate: number; other: number; errors: number }[] = [];
  for (let run = 0; run < (args['skip-closed'] ? 0 : REPEAT); run++) {
    if (run > 0) await waitForQuiet();
    process.stderr.write(`closed loop ${run + 1}/${REPEAT}: ${CONCURRENCY} users at a time for ${MAX_DURATION} s\n`);
    const phase = await measured((r) => closedLoop(go(r), CONCURRENCY, MAX_DURATION));
    const rate = phase.recorder.completed / phase.loop.seconds;
    process.stderr.write(`  ${phase.recorder.completed} completed, ${rate.toFixed(1)}/s, not completed ${phase.recorder.notCompleted}, other work ${phase.cpu.other.toFixed(0)} %\n`);
    const drain = await drainSyncs(DRAIN);
    process.stderr.write(`  drained in ${drain.seconds.toFixed(1)} s\n`);
    closedRuns.push({ rate, other: phase.cpu.other, errors: phase.recorder.notCompleted });
    if (closed === null || rate > closed.recorder.completed / closed.loop.seconds) {
      closed = phase;
      closedDrain = drain;
    }
  }
  const peak = closed === null ? Infinity : closed.recorder.completed / closed.loop.seconds;
  const openRate = RATE <= peak ? RATE : Math.max(1, Math.round(peak * OPEN_SHARE));

  const quiet = await waitForQuiet();
  process.stderr.write(`open loop: ${openRate} flows/s for ${DURATION} s\n`);
  const open = await measured((r) => openLoop(go(r), openRate, DURATION));
  const openAchieved = open.recorder.completed / open.loop.seconds;
  process.stderr.write(`  ${open.recorder.completed} completed, ${openAchieved.toFixed(1)}/s, not completed ${open.recorder.notCompleted}\n`);
  const openDrain = await drainSyncs(DRAIN);
  const openSync = await timeToFinished(open.recorder.consentIds);
  const sortedSync = [...openSync.finished].sort((a, b) => a - b);
  const proxy = await deployment.proxyStats();
  const errorLines = deployment.ferries.flatMap((f) => f.errorLines());

  const errors = open.recorder.notCompleted + closedRuns.reduce((sum, r) => sum + r.errors, 0);
  const met = peak >= TARGET && openRate >= TARGET && openAchieved >= openRate * 0.98 && errors === 0;
  const worstP99 = (phase: Phase) => Math.max(...[...phase.recorder.stepLatencies.values()].map((v) => percentile([...v].sort((x, y) => x - y), 99)));
  const section = `
### Load: two processes on PostgreSQL behind a round-robin proxy

    ${commandLine('bench/load/run.ts')}

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}.
**Everything shares the 2 cores**: the two Ferry processes, PostgreSQL, the proxy and the load generator, and whatever
else runs on the machine (the run waits up to a minute for a quiet one before each loop; the "other work" figures
below say how much ran alongside anyway).

Two \`node bin/ferry.js start\` processes (\`DATABASE_URL\` a fresh database, pool of 10 each, \`FERRY_RATE_LIMITS=false\`,
\`LOG_LEVEL=warn\`, \`FERRY_DEMO=false\`, \`FERRY_TRUST_PROXY=1\`, one-time retention 24 h, the sync jobs and the retention
sweeper running as in production) behind a node:http proxy in its own process that sends each request to the next
Ferry in turn (keep-alive on both sides, \`X-Forwarded-For\`), so every user's requests alternate between the two processes.
Each simulated user walks the one-time flow (${JOURNEY_REQUESTS.length - 3} requests, bench/lib/flow-walk.ts: connect, start, consent,
\`TestDataBank1\`, password login, share one account, Accept), then the app exchanges the code (\`POST /v1/oauth/token\`,
Basic auth, JSON) and reads \`GET /v1/accounts\` and one page (50) of the account's transactions: ${JOURNEY_REQUESTS.length} requests per user.
The proxy forwarded ${proxy.requests} requests in all, ${Object.values(proxy.perBackend).join(' / ')} to each process.
${
  closed === null || closedDrain === null
    ? ''
    : `
**Closed loop, ${CONCURRENCY} users at a time for ${MAX_DURATION} s (the most this deployment takes here): ${peak.toFixed(1)} flows/s** with data reads,
the best of ${closedRuns.length} runs (${closedRuns.map((r) => `${r.rate.toFixed(1)}/s with ${r.other.toFixed(0)} % of a core of other work`).join(', ')}); errors in all runs: ${closedRuns.reduce((sum, r) => sum + r.errors, 0)}.
The best run: ${(peak * JOURNEY_REQUESTS.length).toFixed(0)} requests/s through the proxy; not completed: **${closed.recorder.notCompleted}** (${closed.recorder.reasonsText()});
worst step p99 ${ms(worstP99(closed))} ms, whole journey p50 ${ms(percentile([...closed.recorder.journeyMs].sort((x, y) => x - y), 50))} ms.
${cpuLine(closed)}
The first syncs lag behind the flows: ${drainLine(closedDrain, closed.recorder.completed, closed.loop.seconds)}.
`
}
**Open loop, ${openRate} users arriving per second for ${DURATION} s**${openRate !== RATE ? ` (the target rate, ${RATE}/s, is beyond the closed loop's peak: measured at ${(OPEN_SHARE * 100).toFixed(0)} % of that peak instead, a rate the deployment sustains with the syncs)` : ''}:
${open.recorder.completed} of ${open.recorder.started} journeys completed, **${openAchieved.toFixed(1)} flows/s** with data reads;
not completed: **${open.recorder.notCompleted}** (${open.recorder.reasonsText()}); reloads: ${open.recorder.reloads}; most users in flight at once: ${open.loop.maxInFlight}${open.loop.shed > 0 ? `; ${open.loop.shed} arrivals shed (2,000 in flight)` : ''}.
${cpuLine(open)}

Per step (the step's requests, as the user waits for them):

${latencyTable([...JOURNEY_STEPS.map((st) => [st.name, open.recorder.stepLatencies.get(st.name)!] as [string, number[]]), ['whole journey (wall)', open.recorder.journeyMs]])}

Per request:

${latencyTable(JOURNEY_REQUESTS.map((r) => [r, open.recorder.latencies.get(r)!]))}

**The first sync** (a job per consent, either process claims it): the reads right after the exchange found the account
still \`Syncing\` in ${open.recorder.accountsSyncing} of ${open.recorder.completed} open-loop journeys (an empty first page in ${open.recorder.emptyPages}); that still counts as a read.
${drainLine(openDrain, open.recorder.completed, open.loop.seconds)}; failed sync jobs: ${openDrain.failed}.
Consent to \`Finished\` for the open loop's consents: p50 ${ms(percentile(sortedSync, 50) / 1000)} s, p99 ${ms(percentile(sortedSync, 99) / 1000)} s, max ${ms((sortedSync.at(-1) ?? NaN) / 1000)} s${openSync.unfinished > 0 ? ` (${openSync.unfinished} accounts not finished)` : ''}.

Ferry error-level log lines (a 500 or a crash would leave one): ${errorLines.length}. Machine busy before the loops: ${quietClosed.toFixed(0)} % and ${quiet.toFixed(0)} % of a core.

Target (issue 8): at least ${TARGET} complete flows/s with data reads, no errors: **${met ? 'met' : 'missed'}** (peak ${peak.toFixed(1)} flows/s; errors ${errors}).
`;
  process.stdout.write(`${section}\n`);
  if (errorLines.length > 0) process.stderr.write(`${errorLines.slice(0, 5).join('\n')}\n`);
  if (!args['no-write']) writeResultsBlock('bench/load/run.ts', section);
  process.exitCode = met ? 0 : 1;
} finally {
  agent.destroy();
  await deployment.stop();
}

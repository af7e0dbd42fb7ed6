/**
 * Soak benchmark (issue 8): the deployment of bench/load (two `ferry start` processes on PostgreSQL
 * behind the round-robin proxy), users arriving at --rate per second (half the load benchmark's
 * peak) for --duration seconds, the app's webhooks on and one-time consents erased after
 * --retention, so every background path (sync, webhooks, the retention sweeper) runs all along.
 * Every --interval seconds it samples each Ferry process's RSS (/proc/<pid>/status VmRSS) and its
 * V8 heap and external memory (/metrics). Memory must stay flat and under 250 MB per process, with
 * no errors.
 *
 *   npx tsx bench/soak/run.ts [--rate 12] [--duration 600] [--interval 10] [--retention 120s] [--no-write]
 *
 * Bounded by --duration (at most an hour) plus a drain of at most 3 minutes. Exits non-zero when a check fails.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { commandLine, Deployment, machineLine, ms, percentile, rssMb, sleep, writeResultsBlock } from '../lib/ferry-cluster.js';
import { sendRequest } from '../lib/flow-walk.js';
import { journey, JourneyRecorder, openLoop, reloadingTransport, type JourneyTarget } from '../lib/simulated-users.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '12' },
    duration: { type: 'string', default: '600' },
    interval: { type: 'string', default: '10' },
    retention: { type: 'string', default: '120s' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const INTERVAL = Number(args.interval);
const RSS_LIMIT_MB = 250;
const NODE_FLAGS = process.env.FERRY_BENCH_NODE_OPTIONS ?? '';
/** Ferry's retention sweeper runs at least this often (src/consents/retention.ts): a deadline is met within it. */
const SWEEP_INTERVAL_S = 60;
/**
 * Flat: RSS is a sawtooth (the V8 heap fills with garbage until a major GC empties it), so a slope
 * through every sample says more about where the last tooth fell than about a leak. A leak lifts
 * the troughs: the least-squares slope of each minute's lowest RSS (minute 0, the warm-up, left
 * out) must not exceed this by more than two standard errors of that slope (the sawtooth's noise).
 */
const FLAT_MB_PER_MIN = 1;
if (DURATION > 3600 || INTERVAL < 1) throw new Error('bounded: --duration ≤ 3600 s, --interval ≥ 1 s');

const deployment = new Deployment({ name: 'ferry_bench_soak', retention: args.retention, webhooks: true });
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
const metricsAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });

interface Sample {
  t: number;
  rss: (number | null)[];
  heap: (number | null)[];
  external: (number | null)[];
  proxyRss: number | null;
  /** How long the oldest one-time consent past its deadline has waited for erasure (0 when none), seconds. */
  deletionLag: number;
  /** How long the oldest due sync job has waited, seconds. */
  syncBacklog: number;
  syncsQueued: number;
}

/** The deletion lag and the sync queue, as the database has them now. */
async function backgroundWork(): Promise<{ deletionLag: number; syncBacklog: number; syncsQueued: number }> {
  const now = Date.now();
  const [row] = await deployment.query<{ oldest: string | null; oldest_sync: string | null; syncs: string }>(
    `select (select min(delete_at) from consents where delete_at <= $1) as oldest,
            (select min(run_at) from jobs where kind = 'sync' and status = 'pending' and run_at <= $1) as oldest_sync,
            (select count(*) from jobs where kind = 'sync' and status = 'pending' and run_at <= $1) as syncs`,
    [now],
  );
  return {
    deletionLag: row?.oldest == null ? 0 : (now - Number(row.oldest)) / 1000,
    syncBacklog: row?.oldest_sync == null ? 0 : (now - Number(row.oldest_sync)) / 1000,
    syncsQueued: Number(row?.syncs ?? 0),
  };
}

async function processMemory(port: number): Promise<{ heap: number | null; external: number | null }> {
  try {
    const answer = await sendRequest(metricsAgent, port, 'GET', '/metrics', { accept: 'text/plain' });
    const value = (name: string) => {
      const match = new RegExp(`^${name} (\\S+)`, 'm').exec(answer.body);
      return match === null ? null : Number(match[1]) / 2 ** 20;
    };
    return { heap: value('ferry_process_nodejs_heap_size_used_bytes'), external: value('ferry_process_nodejs_external_memory_bytes') };
  } catch {
    return { heap: null, external: null };
  }
}

/** Least-squares slope of `values` over `times` (seconds), in units per minute. */
function slopePerMinute(points: [number, number][]): number {
  return slopeWithError(points).slope;
}

/** The least-squares slope (per minute) and its standard error. */
function slopeWithError(points: [number, number][]): { slope: number; error: number } {
  if (points.length < 3) return { slope: NaN, error: NaN };
  const n = points.length;
  const mt = points.reduce((a, [t]) => a + t, 0) / n;
  const mv = points.reduce((a, [, v]) => a + v, 0) / n;
  const num = points.reduce((a, [t, v]) => a + (t - mt) * (v - mv), 0);
  const den = points.reduce((a, [t]) => a + (t - mt) ** 2, 0);
  const slope = num / den;
  const residuals = points.reduce((a, [t, v]) => a + (v - mv - slope * (t - mt)) ** 2, 0);
  return { slope: slope * 60, error: Math.sqrt(residuals / (n - 2) / den) * 60 };
}

const problems: string[] = [];
try {
  process.stderr.write(`starting the deployment (retention ${args.retention}, webhooks on)\n`);
  await deployment.start();
  const target: JourneyTarget = { port: deployment.proxyPort, ...deployment.app };
  const total = new JourneyRecorder();
  const perMinute: JourneyRecorder[] = [];
  const recorderNow = () => {
    const minute = Math.floor((performance.now() - total.t0) / 60_000);
    while (perMinute.length <= minute) perMinute.push(new JourneyRecorder());
    return perMinute[minute]!;
  };
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const t = (performance.now() - total.t0) / 1000;
      const memory = await Promise.all(deployment.ferries.map((f) => processMemory(f.port)));
      samples.push({
        t,
        rss: deployment.ferries.map((f) => (f.pid === null ? null : rssMb(f.pid))),
        heap: memory.map((m) => m.heap),
        external: memory.map((m) => m.external),
        proxyRss: rssMb(deployment.proxy!.child.pid!),
        ...(await backgroundWork()),
      });
      const last = samples.at(-1)!;
      process.stderr.write(`[${t.toFixed(0).padStart(4)} s] completed ${total.completed}, not completed ${total.notCompleted}; RSS ${last.rss.map((r) => r?.toFixed(0)).join(' / ')} MB, heap ${last.heap.map((h) => h?.toFixed(0)).join(' / ')} MB; deletion lag ${last.deletionLag.toFixed(0)} s, sync backlog ${last.syncBacklog.toFixed(0)} s (${last.syncsQueued})\n`);
      await sleep(Math.max(0, (t + INTERVAL) * 1000 - (performance.now() - total.t0)));
    }
  })();

  process.stderr.write(`soak: ${RATE} users/s for ${DURATION} s\n`);
  const loop = await openLoop(
    async (user) => {
      const minute = recorderNow();
      // One journey counted in the run's total and in its minute.
      const recorder = new JourneyRecorder();
      await journey(target, user, reloadingTransport(agent, deployment.proxyPort, recorder), recorder);
      for (const r of [total, minute]) {
        r.started++;
        for (const [o, n] of Object.entries(recorder.outcomes)) r.outcomes[o as keyof typeof r.outcomes] += n;
        for (const [reason, n] of recorder.reasons) r.reasons.set(reason, (r.reasons.get(reason) ?? 0) + n);
        r.journeyMs.push(...recorder.journeyMs);
        r.reloads += recorder.reloads;
      }
    },
    RATE,
    DURATION,
  );
  sampling = false;
  await sampler;

  // Drain: the background work the load left, then a look at what must be true.
  const drainStarted = performance.now();
  let left = Infinity;
  while (left > 0 && performance.now() - drainStarted < 180_000) {
    const rows = await deployment.query<{ n: string }>(
      `select (select count(*) from jobs where kind <> 'retention-sweep' and status in ('pending', 'running') and run_at <= $1) + (select count(*) from webhook_deliveries where status = 'pending') as n`,
      [Date.now()],
    );
    left = Number(rows[0]?.n ?? 0);
    if (left > 0) await sleep(1000);
  }
  const at = Date.now();
  const one = async (text: string, params: unknown[] = []) => Number((await deployment.query<{ n: string }>(text, params))[0]?.n ?? 0);
  const overdue = await one(`select count(*) as n from consents where delete_at <= $1`, [at - 60_000]);
  const failedJobs = await one(`select count(*) as n from jobs where status = 'failed'`);
  const undelivered = await one(`select count(*) as n from webhook_deliveries where status <> 'delivered'`);
  const receipts = await one(`select count(*) as n from deletion_receipts`);
  const errorLines = deployment.ferries.flatMap((f) => f.errorLines());

  // Memory: per process, start (first sample), max, end, the slope through every sample, and the slope of each minute's lowest RSS and heap.
  const memoryRows: string[] = [];
  const minuteTroughs = (series: [number, number][]) => {
    const byMinute = new Map<number, number>();
    for (const [t, v] of series) {
      const m = Math.floor(t / 60);
      if (m >= 1 && m < Math.ceil(DURATION / 60)) byMinute.set(m, Math.min(byMinute.get(m) ?? Infinity, v));
    }
    return [...byMinute].map(([m, v]) => [m * 60, v] as [number, number]);
  };
  deployment.ferries.forEach((f, i) => {
    const rss = samples.map((s) => [s.t, s.rss[i]] as [number, number | null]).filter((p): p is [number, number] => p[1] !== null);
    const heap = samples.map((s) => [s.t, s.heap[i]] as [number, number | null]).filter((p): p is [number, number] => p[1] !== null);
    const max = Math.max(...rss.map(([, v]) => v));
    const troughs = minuteTroughs(rss);
    const heapTroughs = minuteTroughs(heap);
    const { slope: troughSlope, error: troughError } = slopeWithError(troughs);
    if (max >= RSS_LIMIT_MB) problems.push(`Ferry ${i}: RSS reached ${max.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB)`);
    if (!(troughSlope - 2 * troughError < FLAT_MB_PER_MIN)) {
      problems.push(`Ferry ${i}: the lowest RSS of each minute grew ${troughSlope.toFixed(2)} ± ${troughError.toFixed(2)} MB/min (flat: not above ${FLAT_MB_PER_MIN} MB/min by more than two standard errors)`);
    }
    memoryRows.push(
      `| Ferry ${i} (pid ${f.pids.join(', ')}) | ${rss[0]?.[1].toFixed(0)} | ${max.toFixed(0)} | ${rss.at(-1)?.[1].toFixed(0)} | ${slopePerMinute(rss).toFixed(2)} | ` +
        `${troughs[0]?.[1].toFixed(0)} → ${troughs.at(-1)?.[1].toFixed(0)}, ${troughSlope.toFixed(2)} ± ${troughError.toFixed(2)} | ` +
        `${heap[0]?.[1].toFixed(0)} / ${Math.max(...heap.map(([, v]) => v)).toFixed(0)} | ${heapTroughs[0]?.[1].toFixed(0)} → ${heapTroughs.at(-1)?.[1].toFixed(0)}, ${slopePerMinute(heapTroughs).toFixed(2)} |`,
    );
  });
  const proxyRss = samples.map((s) => s.proxyRss).filter((v): v is number => v !== null);

  const minuteRows = perMinute.map((r, m) => {
    const sorted = [...r.journeyMs].sort((a, b) => a - b);
    const inMinute = samples.filter((s) => s.t >= m * 60 && s.t < (m + 1) * 60);
    const lastSample = inMinute.at(-1);
    const lag = Math.max(0, ...inMinute.map((x) => x.deletionLag));
    const backlog = Math.max(0, ...inMinute.map((x) => x.syncBacklog));
    return `| ${m}–${m + 1} | ${r.completed} | ${r.notCompleted} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${lastSample?.rss.map((v) => v?.toFixed(0) ?? '–').join(' / ') ?? '–'} | ${lastSample?.heap.map((v) => v?.toFixed(0) ?? '–').join(' / ') ?? '–'} | ${backlog.toFixed(0)} | ${lag.toFixed(0)} |`;
  });
  const sortedAll = [...total.journeyMs].sort((a, b) => a - b);
  if (total.notCompleted > 0) problems.push(`${total.notCompleted} journeys did not complete: ${total.reasonsText()}`);
  if (overdue > 0) problems.push(`${overdue} consents more than a minute past their deadline after the drain`);
  const worstLag = Math.max(0, ...samples.map((x) => x.deletionLag));
  if (worstLag > SWEEP_INTERVAL_S) problems.push(`deletion lag reached ${worstLag.toFixed(0)} s during the run (allowed: the sweep interval, ${SWEEP_INTERVAL_S} s)`);
  if (failedJobs > 0) problems.push(`${failedJobs} failed jobs`);
  if (undelivered > 0) problems.push(`${undelivered} webhook deliveries not delivered`);
  if (errorLines.length > 0) problems.push(`${errorLines.length} error-level log lines`);

  const section = `
### Soak: ${(DURATION / 60).toFixed(DURATION % 60 === 0 ? 0 : 1)} minutes at ${RATE} flows/s${NODE_FLAGS === '' ? '' : `, Ferry with \`${NODE_FLAGS}\``}

    ${commandLine('bench/soak/run.ts')}

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}; everything shares the 2 cores.
The load benchmark's deployment, with the app's webhooks to a receiver and \`FERRY_ONE_TIME_RETENTION=${args.retention}\`, so the sync,
the webhook deliveries and the retention sweeper (erasing every consent ${args.retention} after it is made) all run throughout.
${RATE} users per second arriving for ${DURATION} s (${total.started} journeys: flow, code exchange, accounts, a transactions page);
RSS (\`VmRSS\` from /proc/<pid>/status), V8 heap used and external memory (Ferry's /metrics) of each process every ${INTERVAL} s.

Journeys: ${total.completed} completed, **${total.notCompleted} not completed** (${total.reasonsText()}); reloads ${total.reloads}; whole journey p50 ${ms(percentile(sortedAll, 50))} ms,
p99 ${ms(percentile(sortedAll, 99))} ms; ${loop.shed > 0 ? `${loop.shed} arrivals shed; ` : ''}most users in flight ${loop.maxInFlight}.

| process | RSS start MB | max MB | end MB | slope through all samples, MB/min | lowest RSS of each minute: first → last MB, slope ± standard error MB/min | heap used start / max MB | lowest heap of each minute: first → last MB, slope MB/min |
|---|---:|---:|---:|---:|---|---|---|
${memoryRows.join('\n')}
| proxy | ${proxyRss[0]?.toFixed(0)} | ${Math.max(...proxyRss).toFixed(0)} | ${proxyRss.at(-1)?.toFixed(0)} | ${slopePerMinute(samples.filter((s) => s.proxyRss !== null).map((s) => [s.t, s.proxyRss!])).toFixed(2)} | | | |

Per minute (RSS and heap: the minute's last sample, Ferry 0 / Ferry 1; the sync queue and the deletion lag, i.e. how long the
oldest one-time consent past its deadline has waited for erasure: the most any sample of the minute saw):

| minute | completed | not completed | journey p50 ms | journey p99 ms | RSS MB | heap MB | oldest due sync waiting, s (max) | deletion lag, s (max) |
|---|---:|---:|---:|---:|---|---|---:|---:|
${minuteRows.join('\n')}

After the load (drained ${((performance.now() - drainStarted) / 1000).toFixed(0)} s): consents more than a minute past their deadline ${overdue}; failed jobs ${failedJobs};
webhook deliveries not delivered ${undelivered}; consents erased (receipts) ${receipts}; Ferry error-level log lines ${errorLines.length}.

Checks: RSS under ${RSS_LIMIT_MB} MB and flat (the slope of each minute's lowest RSS, minute 0 left out, not above ${FLAT_MB_PER_MIN} MB/min by more
than two standard errors) for each process, every journey
completed, the deletion lag never above ${SWEEP_INTERVAL_S} s, nothing overdue, failed or undelivered: **${problems.length === 0 ? 'passed' : `failed`}**${problems.length > 0 ? `:\n\n${problems.map((p) => `- ${p}`).join('\n')}` : '.'}
`;
  process.stdout.write(`${section}\n`);
  // A run with other Node flags for Ferry (FERRY_BENCH_NODE_OPTIONS) keeps its own block beside the default one.
  if (!args['no-write']) writeResultsBlock(`bench/soak/run.ts${NODE_FLAGS === '' ? '' : ` ${NODE_FLAGS}`}`, section);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  agent.destroy();
  metricsAgent.destroy();
  await deployment.stop();
}

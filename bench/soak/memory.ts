/**
 * Where a Ferry process's memory goes (issue 8: RSS ~170 MB at start, ~300 MB under the soak's
 * load, against 250 MB). The load benchmark's deployment (bench/lib/ferry-cluster.ts) with each
 * Ferry carrying bench/soak/memory-probe.mjs (`--import`), which reports process.memoryUsage(),
 * the V8 heap spaces and the thread count, and writes heap snapshots on request.
 *
 *   npx tsx bench/soak/memory.ts [--entry tsx|precompiled] [--node-args '--max-semi-space-size=4']
 *                                [--rate 22] [--duration 60] [--processes 2] [--snapshot] [--trace-gc]
 *
 * Reports, per process: after start (idle), after a full GC, every 5 s under the load (open loop,
 * as bench/soak), after the load, after a full GC; with --snapshot a heap snapshot after start and
 * after the load, summarised (bench/soak/heap-summary.ts); with --trace-gc the GC counts and the
 * heap sizes around each mark-compact (from the process's own --trace-gc lines). `--entry
 * precompiled` runs src/ compiled ahead of time (bench/soak/precompiled.ts) instead of tsx.
 * Writes bench/out/issue8/memory-<entry>.json; prints a summary. Does not touch bench/RESULTS.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Deployment, freePort, OUT_DIR, rssMb, sleep } from '../lib/ferry-cluster.js';
import { journey, JourneyRecorder, openLoop, reloadingTransport, type JourneyTarget } from '../lib/simulated-users.js';
import { heapSummaryText, summariseHeap } from './heap-summary.js';
import { buildPrecompiled } from './precompiled.js';

const { values: args } = parseArgs({
  options: {
    entry: { type: 'string', default: 'tsx' },
    'node-args': { type: 'string', default: '' },
    rate: { type: 'string', default: '22' },
    duration: { type: 'string', default: '60' },
    processes: { type: 'string', default: '2' },
    snapshot: { type: 'boolean', default: false },
    'trace-gc': { type: 'boolean', default: false },
    label: { type: 'string' },
  },
});
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const PROCESSES = Number(args.processes);
const label = args.label ?? `${args.entry}${args['node-args'] !== '' ? `-${args['node-args'].replace(/[^a-z0-9=]+/gi, '_')}` : ''}`;
if (DURATION > 900 || PROCESSES < 1 || PROCESSES > 4) throw new Error('bounded: --duration ≤ 900, 1 ≤ --processes ≤ 4');

const HERE = path.dirname(new URL(import.meta.url).pathname);
const probePorts = await Promise.all(Array.from({ length: PROCESSES }, () => freePort()));
const entry = args.entry === 'precompiled' ? await buildPrecompiled() : undefined;
const nodeArgs = ['--import', path.join(HERE, 'memory-probe.mjs'), '--expose-gc', ...(args['trace-gc'] ? ['--trace-gc'] : []), ...args['node-args'].split(/\s+/).filter((a) => a !== '')];
const deployment = new Deployment({
  name: 'ferry_bench_memory',
  processes: PROCESSES,
  retention: '120s',
  webhooks: true,
  nodeArgs,
  ...(entry !== undefined ? { entry } : {}),
  extraEnv: (i) => ({ FERRY_MEMORY_PROBE_PORT: String(probePorts[i]) }),
});

type Report = Record<string, unknown> & { rss: number; heapUsed: number; heapTotal: number; external: number; threads: number; spaces: Record<string, { size: number; used: number; physical: number }> };

function ask(port: number, what: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: what, timeout: 120_000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as Report));
      })
      .on('error', reject);
  });
}

const all = (what: string) => Promise.all(probePorts.map((p) => ask(p, what)));
const line = (r: Report) =>
  `RSS ${r.rss} (anon ${String(r.rssAnon)}, file ${String(r.rssFile)}) MB, threads ${r.threads}; heap used ${r.heapUsed} / total ${r.heapTotal} MB (new ${r.spaces.new_space?.size}, old ${r.spaces.old_space?.size}, code ${r.spaces.code_space?.size}, large ${r.spaces.large_object_space?.size}), external ${r.external} MB, malloced ${String(r.mallocedMemory)} MB`;
const log = (text: string) => process.stderr.write(`${text}\n`);

const result: Record<string, unknown> = { label, entry: args.entry, nodeArgs, rate: RATE, duration: DURATION, processes: PROCESSES };
try {
  log(`[${label}] starting ${PROCESSES} Ferry process(es) (${args.entry}; node ${nodeArgs.join(' ')})`);
  await deployment.start();
  await sleep(3000);
  const idle = await all('/memory');
  const idleGc = await all('/gc');
  idle.forEach((r, i) => log(`Ferry ${i} idle:        ${line(r)}`));
  idleGc.forEach((r, i) => log(`Ferry ${i} idle, GC:    ${line(r)}`));
  Object.assign(result, { idle, idleGc });
  if (args.snapshot) {
    const file = path.join(OUT_DIR, `memory-${label}-idle.heapsnapshot`);
    await ask(probePorts[0]!, `/snapshot?file=${encodeURIComponent(file)}`);
    log(heapSummaryText(summariseHeap(file)));
  }

  if (DURATION > 0) {
    const recorder = new JourneyRecorder();
    const target: JourneyTarget = { port: deployment.proxyPort, ...deployment.app };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
    const samples: { t: number; reports: Report[] }[] = [];
    let sampling = true;
    const sampler = (async () => {
      const t0 = performance.now();
      while (sampling) {
        await sleep(5000);
        const reports = await all('/memory').catch(() => []);
        samples.push({ t: (performance.now() - t0) / 1000, reports });
        log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] completed ${recorder.completed}, not ${recorder.notCompleted}; ${reports.map((r) => `RSS ${r.rss} heap ${r.heapUsed}/${r.heapTotal} new ${r.spaces.new_space?.size} ext ${r.external}`).join(' | ')}`);
      }
    })();
    await openLoop((user) => journey(target, user, reloadingTransport(agent, deployment.proxyPort, recorder), recorder), RATE, DURATION);
    sampling = false;
    await sampler;
    agent.destroy();
    const after = await all('/memory');
    const afterGc = await all('/gc');
    after.forEach((r, i) => log(`Ferry ${i} after load:  ${line(r)}`));
    afterGc.forEach((r, i) => log(`Ferry ${i} after, GC:  ${line(r)}`));
    const maxRss = deployment.ferries.map((_, i) => Math.max(...samples.map((s) => s.reports[i]?.rss ?? 0)));
    const maxHeap = deployment.ferries.map((_, i) => Math.max(...samples.map((s) => s.reports[i]?.heapUsed ?? 0)));
    const maxHeapTotal = deployment.ferries.map((_, i) => Math.max(...samples.map((s) => s.reports[i]?.heapTotal ?? 0)));
    log(`completed ${recorder.completed}, not completed ${recorder.notCompleted} (${recorder.reasonsText()}); max RSS ${maxRss.join(' / ')} MB; max heap used ${maxHeap.join(' / ')} MB; max heap total ${maxHeapTotal.join(' / ')} MB`);
    Object.assign(result, { completed: recorder.completed, notCompleted: recorder.notCompleted, samples, after, afterGc, maxRss, maxHeap, maxHeapTotal });
    if (args.snapshot) {
      const file = path.join(OUT_DIR, `memory-${label}-after.heapsnapshot`);
      await ask(probePorts[0]!, `/snapshot?file=${encodeURIComponent(file)}`);
      log(heapSummaryText(summariseHeap(file)));
    }
  }
  if (args['trace-gc']) {
    for (const f of deployment.ferries) {
      const lines = fs.readFileSync(f.logFile, 'utf8').split('\n');
      const scavenges = lines.filter((l) => l.includes('Scavenge')).length;
      const compacts = lines.filter((l) => l.includes('Mark-Compact'));
      const sizes = compacts.map((l) => /Mark-Compact(?: \(reduce\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(l)).filter((m) => m !== null);
      const summary = sizes.map((m) => `${Math.round(Number(m[1]))}→${Math.round(Number(m[3]))}`).join(', ');
      log(`Ferry ${f.index} GC: ${scavenges} scavenges, ${compacts.length} mark-compacts (heap MB before→after): ${summary.slice(0, 600)}`);
      result[`gc${f.index}`] = { scavenges, markCompacts: compacts.length, sizes: sizes.map((m) => [Number(m[1]), Number(m[3])]) };
    }
  }
  log(`RSS from /proc at the end: ${deployment.ferries.map((f) => (f.pid === null ? '–' : rssMb(f.pid)?.toFixed(0))).join(' / ')} MB`);
} finally {
  await deployment.stop();
  fs.writeFileSync(path.join(OUT_DIR, `memory-${label}.json`), JSON.stringify(result, null, 1));
}

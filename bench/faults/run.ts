/**
 * Fault benchmark (issue 8), on the deployment of bench/load (two `ferry start` processes on
 * PostgreSQL behind the round-robin proxy; bench/lib/ferry-cluster.ts), with
 * FERRY_ONE_TIME_RETENTION=--retention (90 s: longer than a job's 60 s lease, so a sync in the
 * killed process's hands is taken up again before its consent's deadline) and the app's webhooks going to a receiver that dedupes by
 * X-Aiia-EventId:
 *
 *   A. while users walk the flow (--rate per second for --duration s), `kill -9` one Ferry at
 *      --kill-at s and start it again at --restart-at s. Every journey must complete or end on a
 *      clear error (an HTML error page, an OAuth error back to the app, a JSON API error); a request
 *      cut off mid-flight is sent once more, as a browser reload would. Then, once the load stops and
 *      Ferry drains: no sync job failed, stuck `running` past its lease or `pending` forever; every
 *      event has a delivery row, delivered, and the receiver holds every event id; every consent the
 *      app got a code for had its first sync; every one-time consent erased within its deadline plus
 *      the sweep interval (60 s).
 *   B. (last, --pg-outage seconds, 0 to skip) stop PostgreSQL (`pg_ctlcluster … stop`) while a light
 *      load runs and start it again: meanwhile /readyz, the API and the pages answer 503; afterwards
 *      Ferry serves again by itself (same pids, no restart), and the same checks as in A hold.
 *
 *   npx tsx bench/faults/run.ts [--rate 20] [--retention 90] [--duration 30] [--kill-at 10] [--restart-at 15]
 *                               [--settle 240] [--pg-outage 10] [--pg-rate 5] [--no-write]
 *
 * PostgreSQL is the machine's own and may be in use by others: the outage lasts exactly
 * --pg-outage seconds and PostgreSQL is started again whatever happens. Exits non-zero when a check fails.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { commandLine, Deployment, ferryCli, machineLine, ms, percentile, probe, probeAnswer, sleep, writeResultsBlock } from '../lib/ferry-cluster.js';
import { journey, JourneyRecorder, openLoop, OUTCOMES, reloadingTransport, type JourneyTarget } from '../lib/simulated-users.js';
import { sendRequest, walkFlow } from '../lib/flow-walk.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    duration: { type: 'string', default: '30' },
    'kill-at': { type: 'string', default: '10' },
    'restart-at': { type: 'string', default: '15' },
    settle: { type: 'string', default: '240' },
    'pg-outage': { type: 'string', default: '10' },
    'pg-rate': { type: 'string', default: '5' },
    retention: { type: 'string', default: '90' },
    /** Seconds into phase B; by default retention + 10 s, so deadlines of B's first consents fall in the outage. */
    'pg-stop-at': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RATE = Number(args.rate);
const DURATION = Number(args.duration);
const KILL_AT = Number(args['kill-at']);
const RESTART_AT = Number(args['restart-at']);
const SETTLE = Number(args.settle);
const PG_OUTAGE = Number(args['pg-outage']);
const PG_RATE = Number(args['pg-rate']);
const RETENTION_S = Number(args.retention);
const PG_STOP_AT = args['pg-stop-at'] === undefined ? RETENTION_S + 10 : Number(args['pg-stop-at']);
const SWEEP_INTERVAL_S = 60;
if (DURATION > 120 || SETTLE > 600 || PG_OUTAGE > 30 || PG_STOP_AT < 10 || PG_STOP_AT > 150 || !(RETENTION_S >= 10 && RETENTION_S <= 140)) {
  throw new Error('bounded: --duration ≤ 120, --settle ≤ 600, --pg-outage ≤ 30, 10 ≤ --pg-stop-at ≤ 150, 10 ≤ --retention ≤ 140');
}

const exec = promisify(execFile);
const deployment = new Deployment({ name: 'ferry_bench_faults', retention: `${RETENTION_S}s`, webhooks: true });
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
const problems: string[] = [];
const t0 = performance.now();
const now = () => (performance.now() - t0) / 1000;
const log = (line: string) => process.stderr.write(`[${now().toFixed(1).padStart(6)} s] ${line}\n`);

// ---------------------------------------------------------------- checks after the load

interface Verification {
  waitedSeconds: number;
  consentsLeft: number;
  overdue: number;
  jobs: Record<string, number>;
  stuckRunning: number;
  pendingPastDue: number;
  events: Record<string, number>;
  deliveries: Record<string, number>;
  eventsWithoutDelivery: number;
  eventsNotReceived: number;
  receiver: Awaited<ReturnType<Deployment['receiverSummary']>>;
  receipts: number;
  lagMs: number[];
  seenWithoutReceipt: number;
  seenSynced: number;
  seenCount: number;
  /**
   * Consents the app saw whose first sync never finished, by what became of their sync job: a job
   * row left (`sync done ×2 attempts`: taken up again after its lease ran out, the consent already
   * erased) or none (the erasure deleted it while pending: the deadline came before the job's turn).
   */
  notSynced: Record<string, number>;
  cliStats: { overdue: number; deletionLagMs: number; receipts: number };
}

const count = async (text: string, params: unknown[] = []) => Number((await deployment.query<{ n: string }>(text, params))[0]?.n ?? 0);

async function grouped(text: string): Promise<Record<string, number>> {
  const rows = await deployment.query<{ k: string; n: string }>(text);
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}

/**
 * Waits (at most `maxSeconds`) until Ferry has drained: no consent left (all one-time, all past their
 * deadline by then), no sync job queued or running, no webhook delivery pending; then checks.
 */
async function settleAndVerify(seenConsentIds: string[], sinceMs: number, maxSeconds: number): Promise<Verification> {
  const started = performance.now();
  for (;;) {
    const busy =
      (await count(`select count(*) as n from consents`)) +
      (await count(`select count(*) as n from jobs where kind <> 'retention-sweep' and status in ('pending', 'running')`)) +
      (await count(`select count(*) as n from webhook_deliveries where status = 'pending'`));
    if (busy === 0 || performance.now() - started > maxSeconds * 1000) break;
    await sleep(2000);
  }
  const waitedSeconds = (performance.now() - started) / 1000;
  const at = Date.now();
  const receiverIds = new Set(await deployment.receiverIds());
  const eventIds = (await deployment.query<{ id: string }>(`select id from events`)).map((r) => r.id);
  const lag = await deployment.query<{ lag: string }>(`select (erased_at - deadline) as lag from deletion_receipts where deadline is not null and erased_at >= $1`, [sinceMs]);
  const receipts = new Set((await deployment.query<{ consent_id: string }>(`select consent_id from deletion_receipts`)).map((r) => r.consent_id));
  const synced = new Set((await deployment.query<{ consent_id: string }>(`select consent_id from events where event = 'SyncDone'`)).map((r) => r.consent_id));
  const notSyncedIds = seenConsentIds.filter((id) => !synced.has(id));
  const leftJobs = await deployment.query<{ consent_id: string; k: string }>(
    `select consent_id, status || ' after ' || attempts || ' attempt(s)' as k from jobs where kind = 'sync' and consent_id = any($1)`,
    [notSyncedIds],
  );
  const notSynced: Record<string, number> = {};
  const jobOf = new Map(leftJobs.map((r) => [r.consent_id, `job ${r.k}`]));
  for (const id of notSyncedIds) {
    const k = jobOf.get(id) ?? 'no job row (erased while pending)';
    notSynced[k] = (notSynced[k] ?? 0) + 1;
  }
  const cli = JSON.parse(await ferryCli(['consents', 'stats', '--json'], deployment.env)) as { overdue: number; deletionLagMs: number; receipts: number };
  return {
    waitedSeconds,
    consentsLeft: await count(`select count(*) as n from consents`),
    overdue: await count(`select count(*) as n from consents where delete_at <= $1`, [at]),
    jobs: await grouped(`select kind || ' ' || status as k, count(*) as n from jobs group by 1 order by 1`),
    stuckRunning: await count(`select count(*) as n from jobs where status = 'running' and locked_until < $1`, [at]),
    // The retention sweep is always pending for its next run; anything else pending and due is stuck.
    pendingPastDue: await count(`select count(*) as n from jobs where status = 'pending' and run_at < $1 and kind <> 'retention-sweep'`, [at - 5000]),
    events: await grouped(`select event as k, count(*) as n from events group by 1 order by 1`),
    deliveries: await grouped(`select status as k, count(*) as n from webhook_deliveries group by 1`),
    eventsWithoutDelivery: await count(`select count(*) as n from events e where not exists (select 1 from webhook_deliveries d where d.event_id = e.id)`),
    eventsNotReceived: eventIds.filter((id) => !receiverIds.has(id)).length,
    receiver: await deployment.receiverSummary(),
    receipts: receipts.size,
    lagMs: lag.map((r) => Number(r.lag)).sort((a, b) => a - b),
    seenWithoutReceipt: seenConsentIds.filter((id) => !receipts.has(id)).length,
    seenSynced: seenConsentIds.filter((id) => synced.has(id)).length,
    seenCount: seenConsentIds.length,
    notSynced,
    cliStats: cli,
  };
}

function check(v: Verification, label: string): void {
  const fail = (what: string) => problems.push(`${label}: ${what}`);
  if (v.consentsLeft > 0) fail(`${v.consentsLeft} consents not erased after ${v.waitedSeconds.toFixed(0)} s`);
  if (v.overdue > 0 || v.cliStats.overdue > 0) fail(`${Math.max(v.overdue, v.cliStats.overdue)} consents past their deadline`);
  if (v.stuckRunning > 0) fail(`${v.stuckRunning} jobs running past their lease`);
  if (v.pendingPastDue > 0) fail(`${v.pendingPastDue} jobs pending past due`);
  for (const [k, n] of Object.entries(v.jobs)) if (k.endsWith(' failed')) fail(`${n} jobs ${k}`);
  if (v.eventsWithoutDelivery > 0) fail(`${v.eventsWithoutDelivery} events without a delivery row`);
  if ((v.deliveries.pending ?? 0) + (v.deliveries.failed ?? 0) > 0) fail(`deliveries not delivered: ${JSON.stringify(v.deliveries)}`);
  if (v.eventsNotReceived > 0) fail(`${v.eventsNotReceived} events never reached the receiver`);
  if (v.seenWithoutReceipt > 0) fail(`${v.seenWithoutReceipt} consents the app saw have no deletion receipt`);
  const maxLag = v.lagMs.at(-1) ?? 0;
  if (maxLag > SWEEP_INTERVAL_S * 1000) fail(`a consent was erased ${(maxLag / 1000).toFixed(1)} s after its deadline (allowed: the sweep interval, ${SWEEP_INTERVAL_S} s)`);
}

function verificationText(v: Verification): string {
  const lag = v.lagMs;
  return [
    `Drained ${v.waitedSeconds.toFixed(0)} s after the load stopped. Consents left: ${v.consentsLeft}; past their deadline: ${v.overdue} (\`ferry consents stats --json\`: overdue ${v.cliStats.overdue}, receipts ${v.cliStats.receipts}).`,
    `Jobs: ${Object.entries(v.jobs).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}; running past their lease: ${v.stuckRunning}; pending past due: ${v.pendingPastDue}.`,
    `Erased one-time consents: ${lag.length}, each after its deadline by p50 ${ms(percentile(lag, 50) / 1000)} s, p99 ${ms(percentile(lag, 99) / 1000)} s, max ${ms((lag.at(-1) ?? NaN) / 1000)} s (allowed: ${SWEEP_INTERVAL_S} s). ` +
      `Of the ${v.seenCount} consents the app got a code for, ${v.seenSynced} had their first sync (\`SyncDone\`) before erasure` +
      `${v.seenCount > v.seenSynced ? ` (the other ${v.seenCount - v.seenSynced}: ${Object.entries(v.notSynced).map(([k, n]) => `${k} ×${n}`).join(', ')})` : ''}, and ${v.seenWithoutReceipt} lack a deletion receipt.`,
    `Events: ${Object.entries(v.events).map(([k, n]) => `${n} ${k}`).join(', ')}; without a delivery row: ${v.eventsWithoutDelivery}; deliveries: ${Object.entries(v.deliveries).map(([k, n]) => `${n} ${k}`).join(', ')}. ` +
      `The receiver got ${v.receiver.received} requests, ${v.receiver.unique} distinct event ids (${v.receiver.duplicates} duplicates, deduped); events never received: ${v.eventsNotReceived}.`,
  ].join('\n');
}

function outcomesText(recorder: JourneyRecorder): string {
  return OUTCOMES.filter((o) => recorder.outcomes[o] > 0 || o === 'deadEnd')
    .map((o) => `${o} ${recorder.outcomes[o]}`)
    .join(', ');
}

function timelineTable(recorder: JourneyRecorder, bucket: number, marks: [number, string][], seconds: number): string {
  const lines = ['| seconds | journeys completed | ended on a clear error | dead ends | what happened |', '|---|---:|---:|---:|---|'];
  const rows = new Map<number, [number, number, number]>();
  for (const [second, counts] of recorder.timeline) {
    const b = Math.floor(second / bucket);
    const row = rows.get(b) ?? [0, 0, 0];
    for (let i = 0; i < 3; i++) row[i]! += counts[i]!;
    rows.set(b, row);
  }
  for (let b = 0; b * bucket < seconds; b++) {
    const [done, clear, unclear] = rows.get(b) ?? [0, 0, 0];
    const what = marks.filter(([t]) => t >= b * bucket && t < (b + 1) * bucket).map(([t, m]) => `${m} (${t.toFixed(1)} s)`).join('; ');
    lines.push(`| ${b * bucket}–${(b + 1) * bucket} | ${done} | ${clear} | ${unclear} | ${what} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- PostgreSQL outage probes

interface ProbeSample {
  t: number;
  readyz: number[];
  api: number;
  page: number;
  /** `Retry-After` of the API's and the page's answers ('' when none). */
  apiRetryAfter: string;
  pageRetryAfter: string;
}

/** This machine's PostgreSQL cluster version (`ls /etc/postgresql`). */
function pgVersion(): string {
  return fs.readdirSync('/etc/postgresql').sort().at(-1) ?? '15';
}

async function pgctl(action: 'stop' | 'start'): Promise<void> {
  // `stop` is fast mode (pg_ctlcluster's default): sessions are ended, nothing waits for clients.
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', action]);
}

// ---------------------------------------------------------------- main

let pgStopped = false;
const startPostgresOnExit = () => {
  if (pgStopped) execFile('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', 'start'], () => process.exit(1));
  else process.exit(1);
};
process.once('SIGINT', startPostgresOnExit);
process.once('SIGTERM', startPostgresOnExit);

let sectionA = '';
let sectionB = '';
try {
  log(`starting PostgreSQL database, 2 Ferry processes (retention ${RETENTION_S} s), proxy, webhook receiver`);
  await deployment.start();
  const target: JourneyTarget = { port: deployment.proxyPort, ...deployment.app };
  const go = (recorder: JourneyRecorder) => (user: number) => journey(target, user, reloadingTransport(agent, deployment.proxyPort, recorder), recorder);

  // ------------------------------------------------ A: kill -9 one process under load
  const victim = deployment.ferries[1]!;
  const killedPid = victim.pid;
  const recorderA = new JourneyRecorder();
  const sinceA = Date.now();
  const marks: [number, string][] = [];
  let restartMs = 0;
  log(`A: ${RATE} users/s for ${DURATION} s; kill -9 Ferry 1 (pid ${killedPid}) at ${KILL_AT} s, start it again at ${RESTART_AT} s`);
  const faults = (async () => {
    await sleep(KILL_AT * 1000 - (performance.now() - recorderA.t0));
    victim.kill9();
    marks.push([(performance.now() - recorderA.t0) / 1000, `kill -9 Ferry 1 (pid ${killedPid})`]);
    log('killed');
    await sleep(RESTART_AT * 1000 - (performance.now() - recorderA.t0));
    marks.push([(performance.now() - recorderA.t0) / 1000, 'start Ferry 1 again']);
    restartMs = await victim.start();
    marks.push([(performance.now() - recorderA.t0) / 1000, `Ferry 1 ready (pid ${victim.pid}, ${(restartMs / 1000).toFixed(1)} s after its start)`]);
    log(`restarted in ${(restartMs / 1000).toFixed(1)} s`);
  })();
  const loopA = await openLoop(go(recorderA), RATE, DURATION);
  await faults;
  const proxyA = await deployment.proxyStats();
  log(`A: ${recorderA.completed} completed; ${outcomesText(recorderA)}; reloads ${recorderA.reloads}; ${recorderA.reasonsText()}`);
  log(`A: waiting for Ferry to drain (syncs, webhooks, every consent past its ${RETENTION_S} s deadline)`);
  const verifyA = await settleAndVerify(recorderA.consentIds, sinceA, SETTLE);
  check(verifyA, 'kill -9');
  // No sync lost: a job in the dead process's hands comes back when its lease (60 s) runs out, before the deadline.
  if (verifyA.seenSynced < verifyA.seenCount) problems.push(`kill -9: ${verifyA.seenCount - verifyA.seenSynced} consents the app got a code for never had their first sync`);
  if (recorderA.outcomes.deadEnd + recorderA.outcomes.proxyError > 0) problems.push(`kill -9: ${recorderA.outcomes.deadEnd + recorderA.outcomes.proxyError} journeys without a clear ending`);
  const errorLinesA = deployment.ferries.flatMap((f) => f.errorLines());
  log(verificationText(verifyA));

  sectionA = `
#### A. \`kill -9\` one of the two processes under load

${RATE} users arriving per second for ${DURATION} s (${recorderA.started} journeys; about half the load benchmark's closed-loop peak, the soak's
rate, so that the survivor can carry it alone); \`kill -9\` of Ferry 1 at ${KILL_AT} s, \`ferry start\` again at ${RESTART_AT} s
(ready ${(restartMs / 1000).toFixed(1)} s later: migrations checked, server built, /readyz 200). The proxy sent ${proxyA.refusedRetried} requests
that Ferry 1 refused while it was down on to Ferry 0 and answered ${proxyA.badGateway} requests cut off mid-flight with its own 502.

Outcomes: **${outcomesText(recorderA)}**; requests sent a second time (a reload after a dropped connection or the proxy's 502): ${recorderA.reloads}.
Why journeys did not complete: ${recorderA.reasonsText()}.

${timelineTable(recorderA, 5, marks, Math.max(DURATION, loopA.seconds))}

${verificationText(verifyA)}

Ferry error-level log lines: ${errorLinesA.length}${errorLinesA.length > 0 ? ` (first: \`${errorLinesA[0]!.slice(0, 300)}\`)` : ''}.
`;

  // ------------------------------------------------ B: PostgreSQL stopped for PG_OUTAGE seconds
  if (PG_OUTAGE > 0) {
    const pidsBefore = deployment.ferries.map((f) => f.pid);
    const query = new URLSearchParams({ client_id: target.clientId, redirect_uri: target.redirectUri, response_type: 'code', scope: 'accounts', state: 'probe' });
    const connectUrl = `/v1/oauth/connect?${query}`;
    const basic = `Basic ${Buffer.from(`${target.clientId}:${target.clientSecret}`).toString('base64')}`;
    /** A fresh access token (its one-time consent lives RETENTION_S) for the API probe: one journey's code, exchanged. */
    const freshToken = async () => {
      const walked = await walkFlow(target, 999_999, reloadingTransport(agent, deployment.proxyPort, null));
      const code = new URL(walked.redirect).searchParams.get('code')!;
      const answer = await sendRequest(agent, deployment.proxyPort, 'POST', '/v1/oauth/token', { authorization: basic, accept: 'application/json' }, JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: target.redirectUri }), 'application/json');
      return (JSON.parse(answer.body) as { access_token: string }).access_token;
    };

    const recorderB = new JourneyRecorder();
    const samples: ProbeSample[] = [];
    let probing = true;
    const phaseT0 = recorderB.t0;
    const tB = () => (performance.now() - phaseT0) / 1000;
    const probeLoop = async (accessToken: string) => {
      while (probing) {
        const [readyz, api, page] = await Promise.all([
          Promise.all(deployment.ferries.map((f) => probe(f.port, '/readyz'))),
          probeAnswer(deployment.proxyPort, '/v1/accounts', { authorization: `Bearer ${accessToken}` }),
          sendRequest(agent, deployment.proxyPort, 'GET', connectUrl, {}).then(
            (a) => ({ status: a.status === 503 && !a.contentType.startsWith('text/html') ? -503 : a.status, retryAfter: a.retryAfter }),
            () => ({ status: 0, retryAfter: '' }),
          ),
        ]);
        samples.push({ t: tB(), readyz, api: api.status, page: page.status, apiRetryAfter: api.retryAfter, pageRetryAfter: page.retryAfter });
        await sleep(250);
      }
    };

    // The outage starts once consents created under this load reach their deadlines during it.
    const pgMarks: [number, string][] = [];
    const loadSeconds = PG_STOP_AT + PG_OUTAGE + 20;
    log(`B: ${PG_RATE} users/s for ${loadSeconds} s; PostgreSQL stopped at ${PG_STOP_AT} s for ${PG_OUTAGE} s`);
    let stopAt = 0;
    let stoppedAt = 0;
    let startAt = 0;
    let startedAt = 0;
    let prober: Promise<void> = Promise.resolve();
    const outage = (async () => {
      await sleep((PG_STOP_AT - 5) * 1000);
      prober = probeLoop(await freshToken());
      await sleep(Math.max(0, (PG_STOP_AT - tB()) * 1000));
      stopAt = tB();
      pgStopped = true;
      await pgctl('stop');
      stoppedAt = tB();
      pgMarks.push([stopAt, `pg_ctlcluster stop (down at ${stoppedAt.toFixed(1)} s)`]);
      log('PostgreSQL stopped');
      await sleep(Math.max(0, (stopAt + PG_OUTAGE - tB()) * 1000));
      startAt = tB();
      await pgctl('start');
      pgStopped = false;
      startedAt = tB();
      pgMarks.push([startAt, `pg_ctlcluster start (accepting at ${startedAt.toFixed(1)} s)`]);
      log('PostgreSQL started');
    })().catch(async (error: unknown) => {
      problems.push(`PostgreSQL stop/start failed: ${(error as Error).message}`);
      if (pgStopped) await pgctl('start').catch(() => {});
      pgStopped = false;
    });
    const sinceB = Date.now();
    await openLoop(go(recorderB), PG_RATE, loadSeconds);
    await outage;
    await sleep(2000);
    probing = false;
    await prober;
    const pidsAfter = deployment.ferries.map((f) => f.pid);
    if (pidsAfter.some((pid, i) => pid === null || pid !== pidsBefore[i])) problems.push(`PostgreSQL outage: a Ferry process exited (pids ${pidsBefore.join(', ')} → ${pidsAfter.join(', ')})`);

    // What Ferry answered while PostgreSQL was down, and when it served again.
    const during = samples.filter((s) => s.t > stoppedAt + 0.5 && s.t < startAt);
    const tally = (values: number[]) => {
      const by = new Map<number, number>();
      for (const v of values) by.set(v, (by.get(v) ?? 0) + 1);
      return [...by].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${status === 0 ? 'no answer' : status === -503 ? '503 not HTML' : status} ×${n}`).join(', ');
    };
    const readyzDuring = during.flatMap((s) => s.readyz);
    const apiDuring = during.map((s) => s.api);
    const pageDuring = during.map((s) => s.page);
    const after = samples.filter((s) => s.t >= startedAt);
    const firstOk = (pick: (s: ProbeSample) => boolean) => {
      const hit = after.find(pick);
      return hit === undefined ? NaN : hit.t - startedAt;
    };
    const readyAgain = firstOk((s) => s.readyz.every((r) => r === 200));
    const apiAgain = firstOk((s) => s.api === 200);
    const pageAgain = firstOk((s) => s.page === 301);
    const stableAfter = after.filter((s) => s.t >= startedAt + Math.max(readyAgain, apiAgain, pageAgain) + 0.01);
    const relapses = stableAfter.filter((s) => s.api !== 200 || s.page !== 301 || s.readyz.some((r) => r !== 200)).length;
    if (during.length === 0) problems.push('PostgreSQL outage: no probe ran during the outage');
    if (readyzDuring.some((r) => r !== 503)) problems.push(`PostgreSQL outage: /readyz answered ${tally(readyzDuring)}`);
    if (apiDuring.some((r) => r !== 503)) problems.push(`PostgreSQL outage: the API answered ${tally(apiDuring)}`);
    if (pageDuring.some((r) => r !== 503)) problems.push(`PostgreSQL outage: the connect page answered ${tally(pageDuring)}`);
    // A 503 tells the client when to come back (error-handler.ts: Retry-After).
    const retryAfters = (pick: (s: ProbeSample) => [number, string]) => {
      const values = during.map(pick).filter(([status]) => status === 503).map(([, retryAfter]) => retryAfter);
      return { missing: values.filter((v) => v === '').length, values: [...new Set(values.filter((v) => v !== ''))] };
    };
    const apiRetry = retryAfters((s) => [s.api, s.apiRetryAfter]);
    const pageRetry = retryAfters((s) => [s.page, s.pageRetryAfter]);
    if (apiRetry.missing > 0) problems.push(`PostgreSQL outage: ${apiRetry.missing} API 503s without Retry-After`);
    if (pageRetry.missing > 0) problems.push(`PostgreSQL outage: ${pageRetry.missing} page 503s without Retry-After`);
    const retryText = (r: { missing: number; values: string[] }) => `${r.values.length === 0 ? 'none' : r.values.map((v) => `\`${v}\``).join(', ')}${r.missing > 0 ? ` (missing on ${r.missing})` : ''}`;
    if (!(Math.max(readyAgain, apiAgain, pageAgain) < 30)) problems.push('PostgreSQL outage: Ferry did not serve again within 30 s of PostgreSQL being back');
    if (recorderB.outcomes.deadEnd + recorderB.outcomes.proxyError > 0) problems.push(`PostgreSQL outage: ${recorderB.outcomes.deadEnd + recorderB.outcomes.proxyError} journeys without a clear ending`);
    log(`B: ${outcomesText(recorderB)}; ${recorderB.reasonsText()}`);
    log(`B: readyz during ${tally(readyzDuring)}; api ${tally(apiDuring)}; page ${tally(pageDuring)}; ready again after ${readyAgain.toFixed(2)} s`);
    log('B: waiting for Ferry to drain');
    const verifyB = await settleAndVerify([...recorderB.consentIds, ...recorderA.consentIds], sinceB, SETTLE);
    check(verifyB, 'PostgreSQL outage');
    const errorLinesB = deployment.ferries.flatMap((f) => f.errorLines()).slice(errorLinesA.length);
    log(verificationText(verifyB));

    sectionB = `
#### B. PostgreSQL stopped for ${PG_OUTAGE} s

${PG_RATE} users per second walked the flow for ${loadSeconds} s; \`pg_ctlcluster --skip-systemctl-redirect ${pgVersion()} main stop\` (fast mode) at ${PG_STOP_AT} s,
\`… start\` ${PG_OUTAGE} s later (PostgreSQL down from ${stoppedAt.toFixed(1)} s, accepting again at ${startedAt.toFixed(1)} s), so that the one-time
deadlines of the consents made ${PG_STOP_AT - RETENTION_S}–${PG_STOP_AT - RETENTION_S + PG_OUTAGE} s into the run fall while PostgreSQL is away. Probes every
250 ms from 5 s before the stop: \`/readyz\` on each process, \`GET /v1/accounts\` with a valid token and \`GET /v1/oauth/connect\` (a browser page) through the proxy.

| probe, while PostgreSQL was down | answers | Retry-After on the 503s | serving again after PostgreSQL was back |
|---|---|---|---:|
| \`/readyz\`, both processes | ${tally(readyzDuring)} | (not needed) | ${ms(readyAgain)} s |
| \`GET /v1/accounts\` (Bearer) | ${tally(apiDuring)} | ${retryText(apiRetry)} | ${ms(apiAgain)} s |
| \`GET /v1/oauth/connect\` (HTML) | ${tally(pageDuring)} | ${retryText(pageRetry)} | ${ms(pageAgain)} s |

Probes answering anything else once Ferry served again: ${relapses}. The Ferry processes kept their pids (${pidsBefore.join(', ')}): no restart.
Journeys: **${outcomesText(recorderB)}**; reloads ${recorderB.reloads}. Why journeys did not complete: ${recorderB.reasonsText()}.

${timelineTable(recorderB, 10, pgMarks, loadSeconds)}

${verificationText(verifyB)}

Ferry error-level log lines during B: ${errorLinesB.length}${errorLinesB.length > 0 ? ` (first: \`${errorLinesB[0]!.slice(0, 300)}\`)` : ''}.
`;
  }

  const section = `
### Faults: \`kill -9\` under load, PostgreSQL stopped

    ${commandLine('bench/faults/run.ts')}

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}; everything shares the 2 cores.
The deployment of the load benchmark (two \`ferry start\` processes, PostgreSQL, the round-robin proxy), with
\`FERRY_ONE_TIME_RETENTION=${RETENTION_S}s\` (longer than a job's 60 s lease) and the app's webhooks going to a receiver in its own process that dedupes by \`X-Aiia-EventId\`.
A journey is the flow, the code exchange and the two reads; a request cut off mid-flight (the connection dropped, or the
proxy's 502) is sent once more, as a browser reload would. A clear error is an HTML error page from Ferry (\`errorPage\`),
an OAuth error sent back to the app (\`errorRedirect\`) or a JSON error from the API (\`apiError\`); a \`deadEnd\` is anything else.
${sectionA}${sectionB}
**Result: ${problems.length === 0 ? 'every check passed' : `${problems.length} check(s) failed`}**${problems.length > 0 ? `:\n\n${problems.map((p) => `- ${p}`).join('\n')}` : '.'}
`;
  process.stdout.write(`${section}\n`);
  if (!args['no-write']) writeResultsBlock('bench/faults/run.ts', section);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  if (pgStopped) await pgctl('start').catch(() => {});
  agent.destroy();
  await deployment.stop();
}

/**
 * Simulated users for the issue-8 benchmarks: each walks the hosted one-time flow
 * (bench/lib/flow-walk.ts), and then the app does what an app does with the code: exchanges it at
 * /v1/oauth/token (Basic auth, JSON body), reads GET /v1/accounts and one transactions page.
 *
 * A request whose connection dropped (or that the proxy answered 502 because its Ferry died
 * under it) is sent once more, as a browser reload or an app's retry would. What the user ends
 * on is one of:
 * - `completed`: the app has the code, the tokens and both reads;
 * - `errorPage`: Ferry answered a flow request with an error page (4xx/5xx, HTML);
 * - `errorRedirect`: Ferry sent the browser back to the app with `error=…`;
 * - `apiError`: an API call answered 4xx/5xx with an OAuth/JSON error body;
 * - `proxyError`: the proxy's own 502 twice in a row (the load balancer's page, not Ferry's);
 * - `deadEnd`: anything else (no answer after the reload, an answer a browser cannot go on from).
 */
import http from 'node:http';
import { FLOW_REQUESTS, FLOW_STEPS, sendRequest, WalkError, walkFlow, type Answer, type FlowRequestName, type FlowTarget, type Method } from './flow-walk.js';

export const APP_REQUESTS = ['POST /v1/oauth/token', 'GET /v1/accounts', 'GET transactions page'] as const;
export type AppRequestName = (typeof APP_REQUESTS)[number];
export type JourneyRequestName = FlowRequestName | AppRequestName;
export const JOURNEY_REQUESTS: JourneyRequestName[] = [...FLOW_REQUESTS, ...APP_REQUESTS];
export const JOURNEY_STEPS: { name: string; requests: JourneyRequestName[] }[] = [
  ...FLOW_STEPS,
  { name: '6 app: code → tokens', requests: ['POST /v1/oauth/token'] },
  { name: '7 app: GET /v1/accounts', requests: ['GET /v1/accounts'] },
  { name: '8 app: one transactions page', requests: ['GET transactions page'] },
];

export const OUTCOMES = ['completed', 'errorPage', 'errorRedirect', 'apiError', 'proxyError', 'deadEnd'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Endings a user or an app can act on: Ferry's error page, an OAuth error back to the app, a JSON API error. */
export const CLEAR_ERRORS: readonly Outcome[] = ['errorPage', 'errorRedirect', 'apiError'];

export interface JourneyTarget extends FlowTarget {
  clientSecret: string;
}

export class JourneyRecorder {
  readonly latencies = new Map<JourneyRequestName, number[]>(JOURNEY_REQUESTS.map((r) => [r, []]));
  readonly stepLatencies = new Map<string, number[]>(JOURNEY_STEPS.map((s) => [s.name, []]));
  /** Wall time of a whole journey (flow and reads), completed ones. */
  readonly journeyMs: number[] = [];
  readonly outcomes: Record<Outcome, number> = { completed: 0, errorPage: 0, errorRedirect: 0, apiError: 0, proxyError: 0, deadEnd: 0 };
  /** Why journeys did not complete: `outcome: request status` → count. */
  readonly reasons = new Map<string, number>();
  /** Per second since `t0`: [completed, ended on a clear error, ended otherwise]. */
  readonly timeline = new Map<number, [number, number, number]>();
  readonly consentIds: string[] = [];
  started = 0;
  /** Requests sent a second time after a dropped connection or the proxy's 502. */
  reloads = 0;
  /** Reads right after the exchange that found an account still syncing, or an empty first page. */
  accountsSyncing = 0;
  emptyPages = 0;
  readonly t0 = performance.now();

  get completed(): number {
    return this.outcomes.completed;
  }

  get notCompleted(): number {
    return OUTCOMES.filter((o) => o !== 'completed').reduce((sum, o) => sum + this.outcomes[o], 0);
  }

  end(outcome: Outcome, reason?: string): void {
    this.outcomes[outcome]++;
    if (reason !== undefined) this.reasons.set(`${outcome}: ${reason}`, (this.reasons.get(`${outcome}: ${reason}`) ?? 0) + 1);
    const second = Math.floor((performance.now() - this.t0) / 1000);
    const slot = this.timeline.get(second) ?? [0, 0, 0];
    slot[outcome === 'completed' ? 0 : CLEAR_ERRORS.includes(outcome) ? 1 : 2]++;
    this.timeline.set(second, slot);
  }

  reasonsText(): string {
    return this.reasons.size === 0 ? 'none' : [...this.reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ×${n}`).join('; ');
  }
}

export type JsonTransport = (method: Method, url: string, headers: Record<string, string>, body?: string, bodyType?: string) => Promise<Answer>;

/** Sends through `port` (the proxy); a dropped connection or the proxy's 502 is sent once more. */
export function reloadingTransport(agent: http.Agent, port: number, recorder: JourneyRecorder | null): JsonTransport {
  return async (method, url, headers, body, bodyType) => {
    try {
      const answer = await sendRequest(agent, port, method, url, headers, body, bodyType);
      if (!answer.proxyError) return answer;
    } catch {
      // the connection dropped: reload
    }
    if (recorder !== null) recorder.reloads++;
    return sendRequest(agent, port, method, url, headers, body, bodyType);
  };
}

function classify(error: unknown, target: JourneyTarget): { outcome: Outcome; reason: string } {
  if (!(error instanceof WalkError)) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { outcome: 'deadEnd', reason: `no answer (${code})` };
  }
  const answer = error.answer;
  if (answer === undefined) return { outcome: 'deadEnd', reason: error.message };
  const where = `${error.request} ${answer.status}`;
  if (answer.proxyError) return { outcome: 'proxyError', reason: where };
  if (answer.location.startsWith(`${target.redirectUri}?`) && /[?&]error=/.test(answer.location)) {
    return { outcome: 'errorRedirect', reason: `${where} ${new URL(answer.location).searchParams.get('error')}` };
  }
  const isApi = (APP_REQUESTS as readonly string[]).includes(error.request);
  if (answer.status >= 400 && !isApi && answer.contentType.startsWith('text/html') && /<h1|<title/i.test(answer.body)) return { outcome: 'errorPage', reason: where };
  if (answer.status >= 400 && isApi && answer.contentType.startsWith('application/json') && /"error"/.test(answer.body)) {
    return { outcome: 'apiError', reason: `${where} ${(JSON.parse(answer.body) as { error?: string }).error ?? ''}` };
  }
  return { outcome: 'deadEnd', reason: `${error.message} (${answer.contentType || 'no content type'})` };
}

/**
 * One user and the app behind them: the hosted flow to the redirect, then the code exchange and
 * two reads. Records latencies of completed journeys and the outcome of every one.
 */
export async function journey(target: JourneyTarget, user: number, transport: JsonTransport, recorder: JourneyRecorder | null): Promise<void> {
  if (recorder !== null) recorder.started++;
  const started = performance.now();
  try {
    const { timings, redirect } = await walkFlow(target, user, transport);
    const times = new Map<JourneyRequestName, number>(timings);
    const params = new URL(redirect).searchParams;
    const code = params.get('code') ?? '';
    const consentId = params.get('consentId') ?? '';
    const timedApi = async (name: AppRequestName, method: Method, url: string, headers: Record<string, string>, body?: string) => {
      const t = performance.now();
      const answer = await transport(method, url, { accept: 'application/json', ...headers }, body, 'application/json');
      times.set(name, performance.now() - t);
      if (answer.status !== 200) throw new WalkError(`${name}: ${answer.status}`, name, answer);
      return JSON.parse(answer.body) as Record<string, unknown>;
    };
    const basic = `Basic ${Buffer.from(`${target.clientId}:${target.clientSecret}`).toString('base64')}`;
    const tokens = await timedApi('POST /v1/oauth/token', 'POST', '/v1/oauth/token', { authorization: basic }, JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: target.redirectUri }));
    const bearer = { authorization: `Bearer ${String(tokens.access_token)}` };
    const { accounts } = (await timedApi('GET /v1/accounts', 'GET', '/v1/accounts', bearer)) as { accounts: { id: string; syncStatus: string }[] };
    const account = accounts[0];
    if (account === undefined) throw new WalkError('GET /v1/accounts: no account', 'GET /v1/accounts');
    const page = (await timedApi('GET transactions page', 'GET', `/v1/accounts/${encodeURIComponent(account.id)}/transactions`, bearer)) as { transactions: unknown[] };
    if (recorder !== null) {
      if (accounts.some((a) => a.syncStatus !== 'Finished')) recorder.accountsSyncing++;
      if (page.transactions.length === 0) recorder.emptyPages++;
      for (const [name, ms] of times) recorder.latencies.get(name)!.push(ms);
      for (const step of JOURNEY_STEPS) recorder.stepLatencies.get(step.name)!.push(step.requests.reduce((sum, r) => sum + (times.get(r) ?? 0), 0));
      recorder.journeyMs.push(performance.now() - started);
      recorder.consentIds.push(consentId);
      recorder.end('completed');
    }
  } catch (error) {
    if (recorder !== null) {
      const { outcome, reason } = classify(error, target);
      recorder.end(outcome, reason);
    }
  }
}

let nextUser = 0;

export interface LoopReport {
  seconds: number;
  /** Arrivals not launched because `maxInFlight` users were already walking (open loop). */
  shed: number;
  maxInFlight: number;
}

/**
 * Users arrive at `rate` per second for `seconds`, whatever happened to the ones before (open
 * loop), up to `maxInFlight` walking at once; waits for the last ones to finish.
 */
export async function openLoop(run: (user: number) => Promise<void>, rate: number | ((elapsedMs: number) => number), seconds: number, maxInFlight = 2000): Promise<LoopReport> {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let due = 0;
  let shed = 0;
  let peak = 0;
  let last = started;
  while (performance.now() - started < seconds * 1000) {
    const now = performance.now();
    const current = typeof rate === 'function' ? rate(now - started) : rate;
    due += ((now - last) / 1000) * current;
    last = now;
    while (due >= 1) {
      due--;
      if (inFlight.size >= maxInFlight) {
        shed++;
        continue;
      }
      const p = run(nextUser++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    peak = Math.max(peak, inFlight.size);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(inFlight);
  return { seconds: (performance.now() - started) / 1000, shed, maxInFlight: peak };
}

/** `concurrency` users walk back to back until the time is up (closed loop): the most the deployment takes. */
export async function closedLoop(run: (user: number) => Promise<void>, concurrency: number, seconds: number): Promise<LoopReport> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await run(nextUser++);
    }),
  );
  return { seconds: (performance.now() - started) / 1000, shed: 0, maxInFlight: concurrency };
}

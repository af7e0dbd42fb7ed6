/**
 * One simulated user through Ferry's hosted one-time flow over plain HTTP, as a browser without
 * JavaScript walks it (connect → start → consent → bank → password login → accounts → done →
 * Accept), every answer checked, cookies and CSRF tokens carried. Shared by bench/flow (one Ferry
 * on SQLite) and bench/load, bench/faults, bench/soak (two Ferry processes behind a proxy).
 */
import http from 'node:http';

/** The requests of one walk, in order; a step is its page and its form post. */
export const FLOW_REQUESTS = [
  'GET /v1/oauth/connect',
  'GET /flow/start',
  'GET consent',
  'POST consent',
  'GET bank',
  'POST bank',
  'GET login',
  'POST login',
  'GET accounts',
  'POST accounts',
  'GET done',
  'POST done (Accept)',
] as const;
export type FlowRequestName = (typeof FLOW_REQUESTS)[number];

export const FLOW_STEPS: { name: string; requests: FlowRequestName[] }[] = [
  { name: '1 consent (connect, start, page, accept)', requests: ['GET /v1/oauth/connect', 'GET /flow/start', 'GET consent', 'POST consent'] },
  { name: '2 bank (page, choose)', requests: ['GET bank', 'POST bank'] },
  { name: '3 bank login (page, password)', requests: ['GET login', 'POST login'] },
  { name: '4 accounts (page, share)', requests: ['GET accounts', 'POST accounts'] },
  { name: '5 done (page, Accept → redirect)', requests: ['GET done', 'POST done (Accept)'] },
];

export interface Answer {
  status: number;
  location: string;
  setCookie: string[];
  contentType: string;
  /** Headers a proxy in front of Ferry may add (bench/lib/round-robin-proxy.ts marks its own 502s). */
  proxyError: boolean;
  /** `Retry-After`, or '' (Ferry sends one with its 503s). */
  retryAfter: string;
  body: string;
}

export type Method = 'GET' | 'POST';

/** Sends one request and reads the whole answer; a body is sent as `bodyType` (a form by default). */
export function sendRequest(
  agent: http.Agent,
  port: number,
  method: Method,
  url: string,
  headers: Record<string, string>,
  body?: string,
  bodyType = 'application/x-www-form-urlencoded',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method, path: url, agent, headers: { accept: 'text/html', ...headers, ...(body !== undefined ? { 'content-type': bodyType, 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            location: String(response.headers.location ?? ''),
            setCookie: response.headers['set-cookie'] ?? [],
            contentType: String(response.headers['content-type'] ?? ''),
            proxyError: response.headers['x-bench-proxy-error'] !== undefined,
            retryAfter: String(response.headers['retry-after'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/** How a walk sends a request (bench/load wraps it to reload once after a dropped connection). */
export type Transport = (method: Method, url: string, headers: Record<string, string>, body?: string) => Promise<Answer>;

/** The walk met an answer a browser could not go on from; `answer` is that answer when there was one. */
export class WalkError extends Error {
  constructor(
    message: string,
    readonly request: string,
    readonly answer?: Answer,
  ) {
    super(message);
  }
}

export interface FlowTarget {
  /** Where requests go (Ferry, or a proxy in front of it): Ferry's PUBLIC_URL origin is http://127.0.0.1:<port>. */
  port: number;
  clientId: string;
  redirectUri: string;
}

export interface WalkedFlow {
  /** Milliseconds each request took, as the user waited for it. */
  timings: Map<FlowRequestName, number>;
  /** Where Accept sent the browser: the app's redirect URI with `code`, `consentId`, `state`, `iss`. */
  redirect: string;
}

/** One user through the whole flow; every answer is checked, as a browser would need it. Throws {@link WalkError}. */
export async function walkFlow(target: FlowTarget, user: number, transport: Transport): Promise<WalkedFlow> {
  const timings = new Map<FlowRequestName, number>();
  let cookie = '';
  const timed = async (name: FlowRequestName, method: Method, url: string, expected: number, form?: Record<string, string | string[]>) => {
    let body: string | undefined;
    if (form !== undefined) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
      body = params.toString();
    }
    const started = performance.now();
    const answer = await transport(method, url, cookie === '' ? {} : { cookie }, body);
    timings.set(name, performance.now() - started);
    if (answer.status !== expected) throw new WalkError(`${name}: ${answer.status}`, name, answer);
    return answer;
  };
  const csrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const local = (location: string) => location.replace(`http://127.0.0.1:${target.port}`, '');

  const query = new URLSearchParams({ client_id: target.clientId, redirect_uri: target.redirectUri, response_type: 'code', scope: 'accounts', state: `s${user}` });
  const connect = await timed('GET /v1/oauth/connect', 'GET', `/v1/oauth/connect?${query}`, 301);
  const start = await timed('GET /flow/start', 'GET', local(connect.location), 303);
  cookie = start.setCookie.map((c) => c.split(';')[0]).join('; ');
  const flow = start.location.replace(/\/consent$/, '');
  const consent = await timed('GET consent', 'GET', `${flow}/consent`, 200);
  const token = csrf(consent.body);
  await timed('POST consent', 'POST', `${flow}/consent`, 303, { _csrf: token });
  await timed('GET bank', 'GET', `${flow}/bank`, 200);
  await timed('POST bank', 'POST', `${flow}/bank`, 303, { _csrf: token, providerId: 'TestDataBank1' });
  await timed('GET login', 'GET', `${flow}/login`, 200);
  const login = await timed('POST login', 'POST', `${flow}/login`, 303, { _csrf: token, username: `bench-user-${user}`, password: '1234' });
  if (!login.location.endsWith('/accounts')) throw new WalkError(`POST login went to ${login.location}`, 'POST login', login);
  const accounts = await timed('GET accounts', 'GET', `${flow}/accounts`, 200);
  const account = /name="account" value="([^"]+)"/.exec(accounts.body)?.[1];
  if (account === undefined) throw new WalkError('no account to share', 'GET accounts', accounts);
  await timed('POST accounts', 'POST', `${flow}/accounts`, 303, { _csrf: token, account, intent: 'share' });
  await timed('GET done', 'GET', `${flow}/done`, 200);
  const accept = await timed('POST done (Accept)', 'POST', `${flow}/done`, 303, { _csrf: token });
  if (!accept.location.startsWith(`${target.redirectUri}?code=`)) throw new WalkError(`Accept went to ${accept.location.slice(0, 60)}`, 'POST done (Accept)', accept);
  return { timings, redirect: accept.location };
}

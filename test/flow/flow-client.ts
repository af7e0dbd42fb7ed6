import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { PUBLIC_URL, type TestClient, type TestServer } from '../helpers/server.js';

/**
 * A browser without a browser, over `inject()`: keeps cookies, posts forms with the page's CSRF
 * token, and follows Ferry's own redirects. Enough to drive the hosted flow step by step.
 */
export class FlowBrowser {
  readonly cookies = new Map<string, string>();
  flowId = '';

  constructor(
    readonly app: FastifyInstance,
    readonly headers: Record<string, string> = {},
  ) {}

  private remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) {
      if (cookie.maxAge === 0 || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: 'GET', url: localPath(url), headers: { accept: 'text/html', ...this.headers, ...this.cookieHeader(), ...headers } });
    this.remember(response);
    return response;
  }

  async post(url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
    const response = await this.app.inject({
      method: 'POST',
      url: localPath(url),
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...this.headers, ...this.cookieHeader(), ...headers },
      payload: body.toString(),
    });
    this.remember(response);
    return response;
  }

  /** Follows redirects that stay on Ferry; stops at the first page, or at a redirect that leaves (back to the app, to a bank). */
  async follow(response: LightMyRequestResponse, limit = 10): Promise<LightMyRequestResponse> {
    let current = response;
    for (let i = 0; i < limit && isRedirect(current) && isFerry(location(current)); i++) current = await this.get(location(current));
    return current;
  }

  async open(url: string): Promise<LightMyRequestResponse> {
    return this.follow(await this.get(url));
  }

  /** Posts a form of the page at `page` (its CSRF token included) and follows Ferry's redirects. */
  async submit(page: string, action: string, form: Record<string, string | string[]> = {}): Promise<LightMyRequestResponse> {
    const current = await this.get(page);
    const csrf = csrfOf(current.body);
    return this.follow(await this.post(action, { _csrf: csrf, ...form }));
  }

  path(step: string): string {
    return `/flow/${this.flowId}/${step}`;
  }
}

export function isRedirect(response: LightMyRequestResponse): boolean {
  return response.statusCode >= 300 && response.statusCode < 400;
}

export function location(response: LightMyRequestResponse): string {
  return String(response.headers.location ?? '');
}

function isFerry(url: string): boolean {
  return url.startsWith('/') || url.startsWith(PUBLIC_URL);
}

function localPath(url: string): string {
  return url.startsWith(PUBLIC_URL) ? url.slice(PUBLIC_URL.length) : url;
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match === null) throw new Error('no CSRF token on the page');
  return match[1]!;
}

export function connectUrl(client: TestClient, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ client_id: client.clientId, redirect_uri: client.redirectUri, response_type: 'code', scope: 'accounts', state: 'st-1', ...params });
  return `/v1/oauth/connect?${query}`;
}

/** Connect, then open the hosted flow's link in this browser: lands on the first step. */
export async function startFlow(
  server: TestServer,
  client: TestClient,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<{ browser: FlowBrowser; page: LightMyRequestResponse; handleUrl: string }> {
  const browser = new FlowBrowser(server.app, headers);
  const connect = await browser.get(connectUrl(client, params));
  if (connect.statusCode !== 301) throw new Error(`connect answered ${connect.statusCode}: ${connect.body}`);
  const handleUrl = location(connect);
  const start = await browser.get(handleUrl);
  browser.flowId = /\/flow\/([^/]+)\//.exec(location(start))?.[1] ?? '';
  const page = await browser.follow(start);
  return { browser, page, handleUrl };
}

/** The code in the mail just sent to `to` (the sandbox mailbox), taken out of the mailbox as a user reads it. */
export async function mailedCode(server: TestServer, to: string): Promise<string> {
  const db = server.services.database.db;
  const mail = await db.selectFrom('sandbox_mail').selectAll().where('to_address', '=', to).execute();
  if (mail.length !== 1) throw new Error(`expected one mail to ${to}, found ${mail.length}`);
  await db.deleteFrom('sandbox_mail').where('to_address', '=', to).execute();
  const code = /\b(\d{6})\b/.exec(mail[0]!.text_body)?.[1];
  if (code === undefined) throw new Error('no code in the mail');
  return code;
}

/** The regular flow's account step: email, then the code from the sandbox mailbox. Returns the next page. */
export async function signInAtFlowStep(server: TestServer, browser: FlowBrowser, email: string): Promise<LightMyRequestResponse> {
  const codePage = await browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'send', email });
  if (!/name="code"/.test(codePage.body)) throw new Error(`no code field: ${codePage.body.slice(0, 500)}`);
  return browser.submit(browser.path('signin'), browser.path('signin'), { intent: 'verify', code: await mailedCode(server, email) });
}

/** Consent → (regular flow: sign in) → bank → password login → first account → done, stopping before Accept. */
export async function walkToDone(
  server: TestServer,
  client: TestClient,
  options: { params?: Record<string, string>; bank?: string; username?: string; email?: string } = {},
): Promise<FlowBrowser> {
  const { browser } = await startFlow(server, client, options.params ?? {});
  const afterConsent = await browser.submit(browser.path('consent'), browser.path('consent'));
  if (/name="intent" value="send"/.test(afterConsent.body)) await signInAtFlowStep(server, browser, options.email ?? 'alice@example.org');
  if (options.params?.providerId === undefined) await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: options.bank ?? 'SandboxPasswordBank' });
  const accounts = await browser.submit(browser.path('login'), browser.path('login'), { username: options.username ?? 'alice', password: '1234' });
  const accountId = /name="account" value="([^"]+)"/.exec(accounts.body)?.[1];
  if (accountId === undefined) throw new Error(`no account on the page: ${accounts.body.slice(0, 500)}`);
  await browser.submit(browser.path('accounts'), browser.path('accounts'), { account: accountId, intent: 'share' });
  return browser;
}

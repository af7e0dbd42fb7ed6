import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestServer } from '../helpers/server.js';

/**
 * A browser for inject(): keeps the cookies Ferry sets, reads the CSRF token from the last page,
 * and signs in the way a developer does (the code from the sandbox mailbox).
 */
export class PortalBrowser {
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(readonly server: TestServer) {}

  private remember(response: LightMyRequestResponse): void {
    for (const c of response.cookies) {
      if (c.value === '' || (c.expires !== undefined && c.expires.getTime() <= Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token !== undefined) this.csrf = token;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.server.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader(), accept: 'text/html' } });
    this.remember(response);
    return response;
  }

  async post(url: string, form: Record<string, string>, options: { csrf?: string | null } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(form);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null) body.set('_csrf', csrf);
    const response = await this.server.app.inject({
      method: 'POST',
      url,
      headers: { cookie: this.cookieHeader(), accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
    this.remember(response);
    return response;
  }

  /** Signs in (signing up on first use) with the code Ferry mailed to the sandbox mailbox. */
  async signIn(email: string): Promise<void> {
    await this.get('/portal/sign-in');
    const sent = await this.post('/portal/sign-in', { email });
    assert.equal(sent.statusCode, 303, sent.body);
    const code = await latestCode(this.server, email);
    await this.get('/portal/sign-in/code');
    const verified = await this.post('/portal/sign-in/code', { code });
    assert.equal(verified.statusCode, 303, verified.body);
    assert.equal(verified.headers.location, '/portal/apps');
  }

  /** Registers an app; returns its client id and the secret shown once. */
  async createApp(name: string, redirectUri: string): Promise<{ clientId: string; clientSecret: string }> {
    await this.get('/portal/apps/new');
    const created = await this.post('/portal/apps', { name, redirectUri });
    assert.equal(created.statusCode, 303, created.body);
    const location = String(created.headers.location);
    const overview = await this.get(location);
    const secret = /id="client-secret">([^<]+)</.exec(overview.body)?.[1];
    assert.ok(secret, 'the overview shows the new secret');
    return { clientId: decodeURIComponent(location.split('/').pop()!), clientSecret: secret };
  }
}

export async function latestCode(server: TestServer, email: string): Promise<string> {
  const mail = await server.services.database.db.selectFrom('sandbox_mail').select('text_body').where('to_address', '=', email.trim().toLowerCase()).orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow();
  const code = /\b(\d{6})\b/.exec(mail.text_body)?.[1];
  assert.ok(code, 'the mail holds a code');
  return code;
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`, 'latin1').toString('base64')}`;
}

/** The visible text of a page, tags stripped, entities decoded, whitespace folded. */
export function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

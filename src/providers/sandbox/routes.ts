import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { systemClock, type Clock } from '../../clock.js';
import { normaliseCulture, resolveCulture } from '../../i18n/culture.js';
import type { ProviderRegistry } from '../registry.js';
import type { Culture } from '../types.js';
import { SANDBOX_BANKS } from './banks.js';
import type { SandboxLoginRow } from './bank-logins.js';
import type { BankPageResult } from './bank-side.js';
import { BANK_STYLESHEET_PATH, bankClass, renderAppDecidedPage, renderAppPage, renderGonePage, renderLoginPage } from './bank-pages.js';
import type { SandboxBankProvider } from './sandbox-bank.js';

export interface SandboxBankRoutesOptions {
  registry: ProviderRegistry;
  clock?: Clock;
}

/** The sandbox pages' own policy: nothing but their stylesheet and logo; forms post to Ferry. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

const HANDLE = Type.String({ minLength: 1, maxLength: 100 });
const BankParams = Type.Object({ providerId: Type.String({ maxLength: 100 }) });
const AppParams = Type.Object({ providerId: Type.String({ maxLength: 100 }), handle: HANDLE });
const CultureQuery = { culture: Type.Optional(Type.String({ maxLength: 20 })) };

/**
 * The sandbox banks' own pages under `/sandbox/…`: the redirect bank's login page, the decoupled
 * bank's "phone", and their stylesheet. Registers nothing when the sandbox is off.
 */
export async function sandboxBankRoutes(fastify: FastifyInstance, options: SandboxBankRoutesOptions): Promise<void> {
  const { registry } = options;
  if (!registry.sandbox) return;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const clock = options.clock ?? systemClock;

  // The hosted flow may already parse forms; within this plugin, parse them if nobody does.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }

  const css = `${fs.readFileSync(new URL('./bank.css', import.meta.url), 'utf8')}\n${SANDBOX_BANKS.map((bank) => `.${bankClass(bank)} { --bank: ${bank.colour}; }`).join('\n')}\n`;
  const cssEtag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 16)}"`;
  app.get(BANK_STYLESHEET_PATH, { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'public, max-age=3600').header('etag', cssEtag).type('text/css; charset=utf-8');
    if (request.headers['if-none-match'] === cssEtag) return reply.code(304).send();
    return reply.send(css);
  });

  const bankOf = (providerId: string): SandboxBankProvider | undefined => registry.sandboxBank(providerId);
  const cultureOf = (row: SandboxLoginRow | null, query: string | undefined, acceptLanguage: string | undefined): Culture =>
    normaliseCulture(query) ?? normaliseCulture(row?.culture) ?? resolveCulture(null, acceptLanguage);
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header('cache-control', 'no-store').header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(body);
  const gone = (reply: FastifyReply, provider: SandboxBankProvider, culture: Culture) => html(reply, 404, renderGonePage({ bank: provider.bank, culture }));

  /** Answers a bank-side result: a page, a redirect back to Ferry, an outcome, or "gone". */
  const answer = (reply: FastifyReply, provider: SandboxBankProvider, result: BankPageResult, handle: string, culture: (row: SandboxLoginRow | null) => Culture, status = 200) => {
    switch (result.kind) {
      case 'redirect':
        return reply.code(303).header('cache-control', 'no-store').header('location', result.location).send();
      case 'gone':
        return gone(reply, provider, culture(null));
      case 'decided':
        return html(reply, 200, renderAppDecidedPage({ bank: provider.bank, culture: culture(result.row), status: result.status }));
      case 'page': {
        const props = { bank: provider.bank, culture: culture(result.row), handle, error: result.error };
        const body = result.row.method === 'Redirect' ? renderLoginPage(props) : renderAppPage({ ...props, username: result.row.username ?? '' });
        return html(reply, result.error === undefined ? status : 400, body);
      }
    }
  };

  // --- the redirect bank's login page -----------------------------------------------------------

  app.get(
    '/sandbox/banks/:providerId/login',
    { config: { html: true }, schema: { hide: true, params: BankParams, querystring: Type.Object({ request: Type.Optional(HANDLE), ...CultureQuery }) } },
    async (request, reply) => {
      const provider = bankOf(request.params.providerId);
      if (provider === undefined) return reply.callNotFound();
      const handle = request.query.request ?? '';
      const culture = (row: SandboxLoginRow | null) => cultureOf(row, request.query.culture, request.headers['accept-language']);
      const result = handle === '' ? ({ kind: 'gone' } as const) : await provider.bankSide.loginPage(handle, clock.now());
      return answer(reply, provider, result, handle, culture);
    },
  );

  app.post(
    '/sandbox/banks/:providerId/login',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: BankParams,
        body: Type.Object({
          request: HANDLE,
          action: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('cancel')])),
          username: Type.Optional(Type.String({ maxLength: 200 })),
          password: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request, reply) => {
      const provider = bankOf(request.params.providerId);
      if (provider === undefined) return reply.callNotFound();
      const { request: handle, action, username, password } = request.body;
      const culture = (row: SandboxLoginRow | null) => cultureOf(row, undefined, request.headers['accept-language']);
      const result = await provider.bankSide.submitLogin(handle, { action: action ?? 'login', username: username ?? '', password: password ?? '' }, clock.now());
      return answer(reply, provider, result, handle, culture);
    },
  );

  // --- the decoupled bank's "phone" -------------------------------------------------------------

  app.get(
    '/sandbox/banks/:providerId/app/:handle',
    { config: { html: true }, schema: { hide: true, params: AppParams, querystring: Type.Object(CultureQuery) } },
    async (request, reply) => {
      const provider = bankOf(request.params.providerId);
      if (provider === undefined) return reply.callNotFound();
      const culture = (row: SandboxLoginRow | null) => cultureOf(row, request.query.culture, request.headers['accept-language']);
      const result = await provider.bankSide.appPage(request.params.handle, clock.now());
      return answer(reply, provider, result, request.params.handle, culture);
    },
  );

  app.post(
    '/sandbox/banks/:providerId/app/:handle',
    {
      config: { html: true },
      schema: {
        hide: true,
        params: AppParams,
        body: Type.Object({ action: Type.Union([Type.Literal('approve'), Type.Literal('reject')]), pin: Type.Optional(Type.String({ maxLength: 50 })) }),
      },
    },
    async (request, reply) => {
      const provider = bankOf(request.params.providerId);
      if (provider === undefined) return reply.callNotFound();
      const { handle } = request.params;
      const culture = (row: SandboxLoginRow | null) => cultureOf(row, undefined, request.headers['accept-language']);
      const result = await provider.bankSide.decide(handle, { action: request.body.action, pin: request.body.pin ?? '' }, clock.now());
      // Post → 303 → get once decided, so a reload does not post again.
      if (result.kind === 'decided') return reply.code(303).header('location', `/sandbox/banks/${encodeURIComponent(provider.bank.id)}/app/${encodeURIComponent(handle)}`).send();
      return answer(reply, provider, result, handle, culture);
    },
  );
}

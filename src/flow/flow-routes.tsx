import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken, sha256 } from '../crypto.js';
import type { LoginFailureReason } from '../providers/types.js';
import { brandStylesheet } from './brand.js';
import { bindBrowser, claimStep, FLOW_STEPS, isEnded, loadFlow, moveStep, releaseStep, type FlowData } from './flow-store.js';
import { browserSecret, csrfTokenMatches, newBrowserSecret, seal, setBrowserCookie, unseal } from './browser-binding.js';
import {
  allowAppLogo,
  currentStepPath,
  expiredPage,
  buildContext,
  isAt,
  otherBrowserPage,
  redirectToCurrentStep,
  requestCulture,
  resolveFlow,
  sendHtml,
  staleFormPage,
  unknownFlowPage,
  type FlowContext,
  type FlowEnvironment,
  type ProviderCatalogue,
  type ResolvedFlow,
} from './flow-context.js';
import { countryName, CULTURE_COUNTRY, maskedAccountNumber, normaliseAccountNumber, searchKey } from './format.js';
import { registerFormBodyParser, type FormBody } from './form-body.js';
import { beginLogin, continueLogin, pollIsDue, pollLogin, withoutLogin, type LoginDeps } from './login-steps.js';
import { AccountsPage, type AccountChoice } from './pages/accounts-page.js';
import { BankPage, type CountryGroup } from './pages/bank-page.js';
import { ConsentPage } from './pages/consent-page.js';
import { DonePage } from './pages/done-page.js';
import { EndPage } from './pages/end-page.js';
import { flowPath } from './pages/layout.js';
import { LoginPage } from './pages/login-page.js';
import { createFlowConsent, finishFlowSession, flowErrorRedirect, flowParams, type FlowDeps } from './session.js';
import { fill } from './text.js';
import { ClaimUnavailablePage } from './pages/claim-unavailable-page.js';
import { revokeUnacceptedConsent, codeIsUnused } from './flow-consent.js';

export interface FlowRoutesOptions {
  /** Consent creation and the redirect back to the app (src/flow/session.ts). */
  flow: FlowDeps;
  providers: ProviderCatalogue;
  publicUrl: string;
  /** Operator's own terms and privacy pages; Ferry's `/terms` and `/privacy` otherwise. */
  termsUrl: string | null;
  privacyUrl: string | null;
  /** Where "keep this connection" leads (the account pages); the flow id and a ticket are appended. */
  claimPath?: string;
}

export const DEFAULT_CLAIM_PATH = '/account/claim';

type IdParams = { id: string };

/**
 * The hosted connect flow (issue #4): the seed page's five steps as server-rendered pages.
 * Post → 303 → get throughout; every page checks the flow is at its step; every post carries the
 * CSRF token; all state is in the flow's database row.
 */
export async function flowRoutes(app: FastifyInstance, options: FlowRoutesOptions): Promise<void> {
  const { providers } = options;
  const { db, clock } = options.flow;
  const env: FlowEnvironment = { db, clock, publicUrl: options.publicUrl, termsUrl: options.termsUrl, privacyUrl: options.privacyUrl };
  const deps = (request: FastifyRequest): LoginDeps => ({ ...env, log: request.log });
  const claimPath = options.claimPath ?? DEFAULT_CLAIM_PATH;
  const html = { html: true } as const;
  /** Posts that reach the bank (a password, a new login) count against the per-IP flow limit. */
  const bankCall = { html: true, rateLimitScope: 'flow' } as const;
  const hide = { hide: true } as const;

  registerFormBodyParser(app);
  // Pages carry CSRF tokens and personal data: never cached, never indexed.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-robots-tag', 'noindex');
    return payload;
  });

  /** Loads the flow, or answers with the page that says why it cannot go on. */
  async function withFlow(request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply): Promise<FlowContext | null> {
    const resolved = await resolveFlow(env, request, request.params.id);
    allowAppLogo(reply, resolved.ok ? resolved.ctx.view.app.logoUrl : (resolved.logoUrl ?? null));
    if (resolved.ok) return resolved.ctx;
    reply.code(resolved.status).type('text/html; charset=utf-8').send(resolved.html);
    return null;
  }

  /** Like `withFlow`, for posts: the CSRF token must match this browser's. */
  async function withPostedFlow(request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply): Promise<FlowContext | null> {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return null;
    const body = (request.body ?? {}) as FormBody;
    if (!csrfTokenMatches(ctx.secret, body._csrf)) {
      request.log.info('hosted flow post refused: CSRF token missing or wrong');
      sendHtml(reply, 403, staleFormPage(ctx));
      return null;
    }
    return ctx;
  }

  const secureCookie = (request: FastifyRequest) => options.publicUrl.startsWith('https://') || request.protocol === 'https';

  // ——— Start: bind the flow to this browser ———

  app.get('/flow/start', { schema: hide, config: html }, async (request, reply) => {
    const handle = (request.query as Record<string, unknown>).f;
    const culture = requestCulture(request, null);
    if (typeof handle !== 'string' || handle.length < 20 || handle.length > 100) return sendUnknown(reply, unknownFlowPage(env, culture));
    const id = sha256(handle);
    const loaded = await loadFlow(db, id);
    if (loaded === undefined) return sendUnknown(reply, unknownFlowPage(env, culture));
    const flowCulture = requestCulture(request, flowParams(loaded.flow));
    // The same browser opening its link again carries on where it was.
    const existing = browserSecret(request, id, loaded.flow.browser_hash);
    if (existing !== null) return reply.redirect(currentStepPath(id, buildContext(env, loaded, flowCulture, existing).position), 303);
    if (loaded.flow.browser_hash !== null) return sendUnknown(reply, otherBrowserPage(env, flowCulture, loaded));
    const { secret, hash } = newBrowserSecret();
    const ctx = buildContext(env, loaded, flowCulture, secret);
    const now = clock.now();
    if (loaded.flow.expires_at <= now) return sendUnknown(reply, expiredPage(env, ctx));
    if (!(await bindBrowser(db, id, hash, now))) return sendUnknown(reply, otherBrowserPage(env, flowCulture, loaded));
    setBrowserCookie(reply, id, secret, secureCookie(request));
    return reply.redirect(currentStepPath(id, ctx.position), 303);
  });

  function sendUnknown(reply: FastifyReply, page: ResolvedFlow) {
    if (page.ok) throw new Error('unreachable');
    allowAppLogo(reply, page.logoUrl ?? null);
    return reply.code(page.status).type('text/html; charset=utf-8').send(page.html);
  }

  // ——— Step 1: consent ———

  app.get<{ Params: IdParams }>('/flow/:id/consent', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'consent')) return redirectToCurrentStep(reply, ctx);
    const retentionMs = options.flow.oneTimeRetentionMs;
    return sendHtml(reply, 200, <ConsentPage view={ctx.view} retentionHours={retentionMs / 3_600_000} deleteByIfNow={clock.now() + retentionMs} />);
  });

  app.post<{ Params: IdParams }>('/flow/:id/consent', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'consent')) return redirectToCurrentStep(reply, ctx);
    const preset = ctx.params.providerId !== null ? providers.get(ctx.params.providerId) : undefined;
    if (preset !== undefined) return reply.redirect(await beginLogin(deps(request), ctx, preset, 'consent'), 303);
    await moveStep(db, ctx.flow.id, 'consent', 'bank', undefined, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
  });

  // ——— Step 2: bank ———

  app.get<{ Params: IdParams; Querystring: { q?: string; country?: string } }>('/flow/:id/bank', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'bank')) return redirectToCurrentStep(reply, ctx);
    const query = typeof request.query.q === 'string' ? request.query.q.slice(0, 100) : '';
    const country = typeof request.query.country === 'string' ? request.query.country.slice(0, 2).toUpperCase() : (CULTURE_COUNTRY[ctx.culture] ?? '');
    const { groups, visibleCount } = bankGroups(ctx, query, country);
    return sendHtml(reply, 200, <BankPage view={ctx.view} groups={groups} query={query} country={groups.some((g) => g.countryCode === country) ? country : ''} visibleCount={visibleCount} />);
  });

  function bankGroups(ctx: FlowContext, query: string, country: string): { groups: CountryGroup[]; visibleCount: number } {
    const wanted = searchKey(query);
    const byCountry = new Map<string, CountryGroup>();
    const known = new Set(providers.list().map((p) => p.describe().countryCode));
    const filterCountry = known.has(country) ? country : '';
    for (const provider of providers.list()) {
      const bank = provider.describe();
      let group = byCountry.get(bank.countryCode);
      if (group === undefined) {
        group = { countryCode: bank.countryCode, countryName: countryName(ctx.culture, bank.countryCode), banks: [], hidden: filterCountry !== '' && bank.countryCode !== filterCountry };
        byCountry.set(bank.countryCode, group);
      }
      const key = searchKey(bank.name);
      group.banks.push({ id: bank.id, name: bank.name, logoUrl: bank.logoUrl, status: bank.status, searchKey: key, hidden: wanted !== '' && !key.includes(wanted) });
    }
    const home = CULTURE_COUNTRY[ctx.culture];
    const groups = [...byCountry.values()]
      // Banks that are down go last: still listed, so the user learns why theirs cannot be chosen.
      .map((g) => ({ ...g, banks: g.banks.sort((a, b) => Number(a.status === 'Down') - Number(b.status === 'Down') || a.name.localeCompare(b.name, ctx.culture)) }))
      .sort((a, b) => Number(b.countryCode === home) - Number(a.countryCode === home) || a.countryName.localeCompare(b.countryName, ctx.culture));
    let visibleCount = 0;
    for (const group of groups) {
      const visible = group.hidden ? 0 : group.banks.filter((b) => !b.hidden).length;
      if (visible === 0) group.hidden = true;
      visibleCount += visible;
    }
    return { groups, visibleCount };
  }

  app.post<{ Params: IdParams }>('/flow/:id/bank', { schema: hide, config: bankCall }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'bank')) return redirectToCurrentStep(reply, ctx);
    const providerId = (request.body as FormBody).providerId;
    const provider = typeof providerId === 'string' ? providers.get(providerId) : undefined;
    // A bank that is down cannot be chosen, whatever the form says.
    if (provider === undefined || provider.describe().status === 'Down') return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
    return reply.redirect(await beginLogin(deps(request), ctx, provider, 'bank'), 303);
  });

  app.post<{ Params: IdParams }>('/flow/:id/bank/change', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (ctx.params.providerId !== null || (ctx.position !== 'login' && ctx.position !== 'accounts')) return redirectToCurrentStep(reply, ctx);
    const { providerId: _providerId, ...rest } = withoutLogin(ctx.data);
    await moveStep(db, ctx.flow.id, ['login', 'accounts'], 'bank', rest, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
  });

  // ——— Step 3: bank login ———

  app.get<{ Params: IdParams; Querystring: { check?: string } }>('/flow/:id/login', { schema: hide, config: html }, async (request, reply) => {
    let ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'login')) return redirectToCurrentStep(reply, ctx);
    const provider = providers.get(ctx.data.providerId ?? '');
    if (provider === undefined || ctx.data.login === undefined) {
      // A bank removed from the configuration mid-flow: say so, and offer the ways on (never a loop, never a dead end).
      const login = { state: null, view: { kind: 'failed', reason: 'Error', message: '', retryable: false } } as const;
      const bank = { id: ctx.data.providerId ?? '', name: ctx.data.providerId ?? '', logoUrl: null };
      return sendHtml(reply, 200, <LoginPage view={ctx.view} bank={bank} login={login.view} prefill={{}} bankPreset={ctx.params.providerId !== null} />);
    }
    // Without JavaScript the waiting page reloads itself; each load asks the bank once when due.
    if (ctx.data.login.view.kind === 'poll' && (request.query.check === '1' || pollIsDue(ctx, clock.now()))) {
      if (await pollLogin(deps(request), ctx, provider)) {
        const next = await resolveFlow(env, request, ctx.flow.id);
        if (!next.ok) return reply.code(next.status).type('text/html; charset=utf-8').send(next.html);
        ctx = next.ctx;
        if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'poll') return reply.redirect(currentStepPath(ctx.flow.id, ctx.position), 303);
      }
    }
    const bank = provider.describe();
    return sendHtml(
      reply,
      200,
      <LoginPage
        view={ctx.view}
        bank={{ id: bank.id, name: bank.name, logoUrl: bank.logoUrl }}
        login={ctx.data.login!.view}
        prefill={ctx.data.login!.prefill ?? {}}
        bankPreset={ctx.params.providerId !== null}
      />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/login', { schema: hide, config: bankCall }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    const view = ctx.data.login?.view;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || view?.kind !== 'form' || provider === undefined) return redirectToCurrentStep(reply, ctx);
    const body = request.body as FormBody;
    const fields: Record<string, string> = {};
    for (const field of view.fields) {
      const value = body[field.name];
      fields[field.name] = typeof value === 'string' ? value.slice(0, 1000) : '';
    }
    return reply.redirect(await continueLogin(deps(request), ctx, provider, { kind: 'form', fields }), 303);
  });

  /** The waiting page's script asks here (JSON) instead of reloading the page. */
  app.get<{ Params: IdParams }>('/flow/:id/login/status', { schema: hide }, async (request, reply) => {
    const resolved = await resolveFlow(env, request, request.params.id);
    const loginPage = flowPath(request.params.id, 'login');
    if (!resolved.ok) return reply.send({ location: loginPage });
    const ctx = resolved.ctx;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'poll' || provider === undefined) return reply.send({ location: currentStepPath(ctx.flow.id, ctx.position) });
    if (pollIsDue(ctx, clock.now()) && (await pollLogin(deps(request), ctx, provider))) return reply.send({ location: loginPage });
    return reply.send({ waiting: true, pollAfterMs: ctx.data.login.view.pollAfterMs });
  });

  app.post<{ Params: IdParams }>('/flow/:id/login/retry', { schema: hide, config: bankCall }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    const view = ctx.data.login?.view;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || view?.kind !== 'failed' || !view.retryable || provider === undefined) return redirectToCurrentStep(reply, ctx);
    return reply.redirect(await beginLogin(deps(request), ctx, provider, 'login'), 303);
  });

  /** Where a redirect login's bank sends the user back (the provider's `returnUrl`). */
  app.get<{ Params: IdParams }>('/flow/:id/callback', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'redirect' || provider === undefined) return redirectToCurrentStep(reply, ctx);
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.query as Record<string, unknown>)) {
      if (typeof value === 'string') query[key] = value.slice(0, 4096);
    }
    return reply.redirect(await continueLogin(deps(request), ctx, provider, { kind: 'callback', query }), 303);
  });

  // ——— Step 4: accounts ———

  app.get<{ Params: IdParams; Querystring: { all?: string; error?: string } }>('/flow/:id/accounts', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'accounts')) return redirectToCurrentStep(reply, ctx);
    const provider = providers.get(ctx.data.providerId ?? '');
    const bank = provider?.describe();
    const selectAll = ctx.params.selectAllAccounts || request.query.all === '1';
    const accounts = ctx.data.accounts ?? [];
    const choices: AccountChoice[] = accounts.map((account) => ({
      account,
      checked: selectAll || accounts.length === 1,
      required: isRequiredAccount(ctx, account),
    }));
    return sendHtml(
      reply,
      200,
      <AccountsPage
        view={ctx.view}
        bank={{ name: bank?.name ?? ctx.data.providerId ?? '', logoUrl: bank?.logoUrl ?? null }}
        choices={choices}
        error={request.query.error === 'none'}
        bankPreset={ctx.params.providerId !== null}
      />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/accounts', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'accounts') || ctx.data.connection === undefined || ctx.data.providerId === undefined) return redirectToCurrentStep(reply, ctx);
    const body = request.body as FormBody;
    const accountsPage = flowPath(ctx.flow.id, 'accounts');
    if (body.intent === 'select-all') return reply.redirect(`${accountsPage}?all=1`, 303);
    const posted = new Set(typeof body.account === 'string' ? [body.account] : Array.isArray(body.account) ? body.account : []);
    const accounts = ctx.data.accounts ?? [];
    const selected = accounts.filter((a) => posted.has(a.id) || isRequiredAccount(ctx, a));
    if (selected.length === 0) return reply.redirect(`${accountsPage}?error=none`, 303);
    const consentId = await createFlowConsent(options.flow, ctx.flow.id, { providerId: ctx.data.providerId, connection: ctx.data.connection, accounts: selected });
    const consent = await db.selectFrom('consents').select('delete_at').where('id', '=', consentId).executeTakeFirst();
    // The consent now holds the connection and the accounts; the flow keeps only what the done page shows.
    const data: FlowData = {
      ...withoutLogin(ctx.data),
      deleteAt: consent?.delete_at ?? null,
      accountCount: selected.length,
      sharedAccounts: selected.map((a) => ({ name: a.name, number: maskedAccountNumber(a) })),
    };
    await moveStep(db, ctx.flow.id, 'accounts', 'done', data, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'done'), 303);
  });

  function isRequiredAccount(ctx: FlowContext, account: { bban: string | null; iban: string | null }): boolean {
    const wanted = ctx.params.bankAccountNumbers.map(normaliseAccountNumber);
    if (wanted.length === 0) return false;
    return [account.bban, account.iban].some((n) => n !== null && wanted.includes(normaliseAccountNumber(n)));
  }

  // ——— Step 5: done ———

  app.get<{ Params: IdParams }>('/flow/:id/done', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'done')) return redirectToCurrentStep(reply, ctx);
    const bank = providers.get(ctx.data.providerId ?? '')?.describe();
    return sendHtml(
      reply,
      200,
      <DonePage view={ctx.view} bankName={bank?.name ?? ctx.data.providerId ?? ''} accounts={ctx.data.sharedAccounts ?? []} deleteAt={ctx.data.deleteAt ?? null} />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/done', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (ctx.position === 'returned') return replayReturn(ctx, reply);
    if (!isAt(ctx, 'done')) return redirectToCurrentStep(reply, ctx);
    if (!(await claimStep(db, ctx.flow, 'done', clock.now()))) {
      const settled = await resolveFlow(env, request, ctx.flow.id);
      return settled.ok && settled.ctx.position === 'returned' ? replayReturn(settled.ctx, reply) : redirectToCurrentStep(reply, settled.ok ? settled.ctx : ctx);
    }
    const finished = await finishFlowSession(options.flow, ctx.flow.id, { providerId: ctx.data.providerId ?? null });
    if (finished === null) {
      await releaseStep(db, ctx.flow.id, 'done', clock.now());
      return redirectToCurrentStep(reply, ctx);
    }
    // Only what a second press of Accept needs: the redirect, sealed with this browser's cookie.
    const data: FlowData = { returnSeal: seal(ctx.secret, finished.redirectUrl), ...(ctx.data.providerId !== undefined ? { providerId: ctx.data.providerId } : {}) };
    await db.updateTable('flow_sessions').set({ data: JSON.stringify(data) }).where('id', '=', ctx.flow.id).execute();
    return reply.redirect(finished.redirectUrl, 303);
  });

  /**
   * Accept pressed twice: the browser shows the second answer, so it must lead to the same place.
   * The same code is sent again only while the app has not used it (a replayed code would revoke
   * the app's tokens, RFC 6749 §4.1.2); after that, the page that says the flow is finished.
   */
  async function replayReturn(ctx: FlowContext, reply: FastifyReply) {
    let data = ctx.data;
    for (let i = 0; i < 40 && data.returnSeal === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const fresh = await loadFlow(db, ctx.flow.id);
      if (fresh === undefined) break;
      data = JSON.parse(fresh.flow.data) as FlowData;
    }
    const url = data.returnSeal !== undefined ? unseal(ctx.secret, data.returnSeal) : null;
    if (url !== null && (await codeIsUnused(db, url, clock.now()))) return reply.redirect(url, 303);
    return reply.redirect(flowPath(ctx.flow.id, 'end'), 303);
  }

  app.post<{ Params: IdParams }>('/flow/:id/claim', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'done') || !ctx.view.oneTime) return redirectToCurrentStep(reply, ctx);
    if (!app.hasRoute({ method: 'GET', url: claimPath })) return sendHtml(reply, 200, <ClaimUnavailablePage view={ctx.view} />);
    const ticket = randomToken(32);
    await moveStep(db, ctx.flow.id, 'done', 'done', { ...ctx.data, claimTicketHash: sha256(ticket) }, clock.now());
    return reply.redirect(`${claimPath}?flow=${encodeURIComponent(ctx.flow.id)}&ticket=${encodeURIComponent(ticket)}`, 303);
  });

  // ——— Leaving: cancel, and the page of a flow that ended ———

  app.post<{ Params: IdParams }>('/flow/:id/cancel', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (ctx.position === 'returned') return reply.redirect(flowPath(ctx.flow.id, 'end'), 303);
    if (ctx.position === 'cancelled') return reply.redirect(cancelRedirect(ctx), 303);
    const failure = ctx.data.login?.view.kind === 'failed' ? ctx.data.login.view.reason : null;
    const data: FlowData = { endReason: failure === null ? 'cancelled' : 'failed', ...(failure !== null ? { failure } : {}) };
    if (!(await moveStep(db, ctx.flow.id, FLOW_STEPS, 'cancelled', data, clock.now()))) {
      const settled = await resolveFlow(env, request, ctx.flow.id);
      return settled.ok ? redirectToCurrentStep(reply, settled.ctx) : reply.redirect(flowPath(ctx.flow.id, 'end'), 303);
    }
    // Step 5 already created the consent: the user did not accept it, so it is revoked and its data goes now.
    if (ctx.flow.consent_id !== null) await revokeUnacceptedConsent(db, ctx.flow.consent_id, clock.now());
    return reply.redirect(cancelRedirect({ ...ctx, data }), 303);
  });

  function cancelRedirect(ctx: Pick<FlowContext, 'flow' | 'data'>): string {
    const failure = ctx.data.failure ?? null;
    const { error, description } = errorFor(failure);
    return flowErrorRedirect(ctx.flow, options.publicUrl, error, description);
  }

  app.get<{ Params: IdParams }>('/flow/:id/end', { schema: hide, config: html }, async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isEnded(ctx.position)) return redirectToCurrentStep(reply, ctx);
    const { t, view } = ctx;
    const app = view.app.name;
    if (ctx.position === 'cancelled') {
      return sendHtml(
        reply,
        200,
        <EndPage view={view} title={t.cancelledTitle} action={{ href: cancelRedirect(ctx), label: fill(t.backToApp, { app }) }}>
          <p>{fill(t.cancelledText, { app })}</p>
        </EndPage>,
      );
    }
    return sendHtml(
      reply,
      200,
      <EndPage view={view} title={t.returnedTitle} action={{ href: `${new URL(ctx.flow.redirect_uri).origin}/`, label: fill(t.openApp, { app }) }}>
        <p>{fill(t.returnedText, { app })}</p>
      </EndPage>,
    );
  });

  // ——— The app's brand colour (CSP allows no inline style) ———

  app.get<{ Params: { file: string } }>('/flow/theme/:file', { schema: hide }, async (request, reply) => {
    const match = /^([0-9a-f]{6})\.css$/.exec(request.params.file);
    const css = match !== null ? brandStylesheet(match[1]!) : null;
    if (css === null) return reply.callNotFound();
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/css; charset=utf-8').send(css);
  });
}

/** RFC 6749 §4.1.2.1 error for a flow that ends without a consent: the user's choice, or a bank failure they cannot fix. */
export function errorFor(failure: LoginFailureReason | 'Error' | null): { error: 'access_denied' | 'server_error' | 'temporarily_unavailable'; description: string } {
  switch (failure) {
    case null:
      return { error: 'access_denied', description: 'The user cancelled.' };
    case 'BankUnavailable':
    case 'Timeout':
      return { error: 'temporarily_unavailable', description: 'The bank is not available at the moment; the user went back to the app.' };
    case 'Error':
      return { error: 'server_error', description: 'Ferry could not complete the bank login; the user went back to the app.' };
    default:
      return { error: 'access_denied', description: `The bank login did not succeed (${failure}); the user went back to the app.` };
  }
}

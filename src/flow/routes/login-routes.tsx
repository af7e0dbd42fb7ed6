import { currentStepPath, isAt, redirectToCurrentStep, resolveFlow, sendHtml } from '../flow-context.js';
import type { FormBody } from '../form-body.js';
import { beginLogin, continueLogin, pollIsDue, pollLogin } from '../login-steps.js';
import { flowPath } from '../pages/layout.js';
import { LoginPage } from '../pages/login-page.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/**
 * Step 3: the bank's login, whatever its state machine asks: a form, a trip to the bank and back
 * (`/callback`), or waiting for approval in the bank's app (`/login/status` for the script; the
 * page itself refreshes without one). Failures offer try again, another bank, or back to the app.
 */
export function loginRoutes(kit: FlowRouteKit): void {
  const { app, env, clock, providers } = kit;

  app.get<{ Params: IdParams; Querystring: { check?: string } }>('/flow/:id/login', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    let ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'login')) return redirectToCurrentStep(reply, ctx);
    const provider = providers.get(ctx.data.providerId ?? '');
    if (provider === undefined || ctx.data.login === undefined) {
      // The chosen bank left the configuration mid-flow: say so, and offer the ways on (no loop, no dead end).
      const bank = { id: ctx.data.providerId ?? '', name: ctx.data.providerId ?? '', logoUrl: null };
      const failed = { kind: 'failed', reason: 'Error', message: '', retryable: false } as const;
      return sendHtml(reply, 200, <LoginPage view={ctx.view} bank={bank} login={failed} prefill={{}} bankPreset={ctx.params.providerId !== null} />);
    }
    // Without JavaScript the waiting page reloads itself; each load asks the bank once it is due.
    if (ctx.data.login.view.kind === 'poll' && (request.query.check === '1' || pollIsDue(ctx, clock.now()))) {
      if (await pollLogin(kit.deps(request), ctx, provider)) {
        const next = await resolveFlow(env, request, ctx.flow.id);
        if (!next.ok) return kit.sendResolved(reply, next);
        ctx = next.ctx;
        if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'poll') return reply.redirect(currentStepPath(ctx.flow.id, ctx.position), 303);
      }
    }
    const bank = provider.describe();
    const login = ctx.data.login!;
    return sendHtml(
      reply,
      200,
      <LoginPage view={ctx.view} bank={{ id: bank.id, name: bank.name, logoUrl: bank.logoUrl }} login={login.view} prefill={login.prefill ?? {}} bankPreset={ctx.params.providerId !== null} />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/login', { schema: kit.hide, config: kit.bankCall }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    const view = ctx.data.login?.view;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || view?.kind !== 'form' || provider === undefined) return redirectToCurrentStep(reply, ctx);
    // Only the fields the bank asked for go to the bank.
    const body = request.body as FormBody;
    const fields: Record<string, string> = {};
    for (const field of view.fields) {
      const value = body[field.name];
      fields[field.name] = typeof value === 'string' ? value.slice(0, 1000) : '';
    }
    return reply.redirect(await continueLogin(kit.deps(request), ctx, provider, { kind: 'form', fields }), 303);
  });

  /** The waiting page's script asks here (JSON) instead of reloading the page. */
  app.get<{ Params: IdParams }>('/flow/:id/login/status', { schema: kit.hide }, async (request, reply) => {
    const resolved = await resolveFlow(env, request, request.params.id);
    const loginPage = flowPath(request.params.id, 'login');
    // Anything unusual (expired, another browser): the page itself will say so.
    if (!resolved.ok) return reply.send({ location: loginPage });
    const ctx = resolved.ctx;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'poll' || provider === undefined) return reply.send({ location: currentStepPath(ctx.flow.id, ctx.position) });
    if (pollIsDue(ctx, clock.now()) && (await pollLogin(kit.deps(request), ctx, provider))) return reply.send({ location: loginPage });
    return reply.send({ waiting: true, pollAfterMs: ctx.data.login.view.pollAfterMs });
  });

  app.post<{ Params: IdParams }>('/flow/:id/login/retry', { schema: kit.hide, config: kit.bankCall }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    const view = ctx.data.login?.view;
    const provider = providers.get(ctx.data.providerId ?? '');
    if (!isAt(ctx, 'login') || view?.kind !== 'failed' || !view.retryable || provider === undefined) return redirectToCurrentStep(reply, ctx);
    return reply.redirect(await beginLogin(kit.deps(request), ctx, provider, 'login'), 303);
  });

  /** Where a redirect login's bank sends the user back (the provider's `returnUrl`). */
  app.get<{ Params: IdParams }>('/flow/:id/callback', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    const provider = providers.get(ctx.data.providerId ?? '');
    // A replayed answer (the back button) after the login moved on goes where the flow is.
    if (!isAt(ctx, 'login') || ctx.data.login?.view.kind !== 'redirect' || provider === undefined) return redirectToCurrentStep(reply, ctx);
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.query as Record<string, unknown>)) {
      if (typeof value === 'string') query[key] = value.slice(0, 4096);
    }
    return reply.redirect(await continueLogin(kit.deps(request), ctx, provider, { kind: 'callback', query }), 303);
  });
}

import { isAt, redirectToCurrentStep, sendHtml } from '../flow-context.js';
import { moveStep } from '../flow-store.js';
import { beginLogin } from '../login-steps.js';
import { ConsentPage } from '../pages/consent-page.js';
import { flowPath } from '../pages/layout.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/** Step 1: the consent page; accepting goes to the bank step, or straight to the bank's login with `providerId`. */
export function consentRoutes(kit: FlowRouteKit): void {
  const { app, db, clock, providers, options } = kit;

  app.get<{ Params: IdParams }>('/flow/:id/consent', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'consent')) return redirectToCurrentStep(reply, ctx);
    const retentionMs = options.flow.oneTimeRetentionMs;
    return sendHtml(reply, 200, <ConsentPage view={ctx.view} retentionHours={retentionMs / 3_600_000} deleteByIfNow={clock.now() + retentionMs} />);
  });

  app.post<{ Params: IdParams }>('/flow/:id/consent', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'consent')) return redirectToCurrentStep(reply, ctx);
    // The regular flow: a Ferry account first (src/flow/routes/sign-in-routes.tsx).
    if (!ctx.view.oneTime && options.accounts !== undefined) {
      await moveStep(db, ctx.flow.id, 'consent', 'signin', undefined, clock.now());
      return reply.redirect(flowPath(ctx.flow.id, 'signin'), 303);
    }
    const preset = ctx.params.providerId !== null ? providers.get(ctx.params.providerId) : undefined;
    if (preset !== undefined) return reply.redirect(await beginLogin(kit.deps(request), ctx, preset, 'consent'), 303);
    await moveStep(db, ctx.flow.id, 'consent', 'bank', undefined, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
  });
}

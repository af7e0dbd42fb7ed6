import type { LoginFailureReason } from '../../providers/types.js';
import { revokeUnacceptedConsent } from '../flow-consent.js';
import { redirectToCurrentStep, resolveFlow, sendHtml, type FlowContext } from '../flow-context.js';
import { FLOW_STEPS, isEnded, moveStep, type FlowData } from '../flow-store.js';
import { EndPage } from '../pages/end-page.js';
import { flowPath } from '../pages/layout.js';
import { flowErrorRedirect } from '../session.js';
import { fill } from '../text.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/**
 * Leaving: cancel on any step goes back to the app with `error` (RFC 6749 §4.1.2.1) and ends the
 * flow for good; `/end` is the page of a flow that ended, which always leads back to the app.
 */
export function leaveRoutes(kit: FlowRouteKit): void {
  const { app, env, db, clock, options } = kit;

  const cancelRedirect = (ctx: Pick<FlowContext, 'flow' | 'data'>): string => {
    const { error, description } = errorFor(ctx.data.failure ?? null);
    return flowErrorRedirect(ctx.flow, options.publicUrl, error, description);
  };

  app.post<{ Params: IdParams }>('/flow/:id/cancel', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (ctx.position === 'returned') return reply.redirect(flowPath(ctx.flow.id, 'end'), 303);
    if (ctx.position === 'cancelled') return reply.redirect(cancelRedirect(ctx), 303);
    // Leaving from a bank failure tells the app why (the failure decides the error code).
    const failure = ctx.data.login?.view.kind === 'failed' ? ctx.data.login.view.reason : null;
    const data: FlowData = { endReason: failure === null ? 'cancelled' : 'failed', ...(failure !== null ? { failure } : {}) };
    if (!(await moveStep(db, ctx.flow.id, FLOW_STEPS, 'cancelled', data, clock.now()))) {
      const settled = await resolveFlow(env, request, ctx.flow.id);
      return settled.ok ? redirectToCurrentStep(reply, settled.ctx) : kit.sendResolved(reply, settled);
    }
    // Step 4 already created the consent: the user did not accept it, so it is revoked and its data goes now.
    // A supervised update's consent is the app's existing one: leaving keeps it as it was.
    if (ctx.flow.consent_id !== null && typeof ctx.params.reconnectConsentId !== 'string') await revokeUnacceptedConsent(db, ctx.flow.consent_id, clock.now());
    return reply.redirect(cancelRedirect({ ...ctx, data }), 303);
  });

  app.get<{ Params: IdParams }>('/flow/:id/end', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isEnded(ctx.position)) return redirectToCurrentStep(reply, ctx);
    const { t, view } = ctx;
    const name = view.app.name;
    if (ctx.position === 'cancelled') {
      return sendHtml(
        reply,
        200,
        <EndPage view={view} title={t.cancelledTitle} action={{ href: cancelRedirect(ctx), label: fill(t.backToApp, { app: name }) }}>
          <p>{fill(t.cancelledText, { app: name })}</p>
        </EndPage>,
      );
    }
    // Returned: the code went to the app already; never send it again from here, only the way to the app.
    return sendHtml(
      reply,
      200,
      <EndPage view={view} title={t.returnedTitle} action={{ href: `${new URL(ctx.flow.redirect_uri).origin}/`, label: fill(t.openApp, { app: name }) }}>
        <p>{fill(t.returnedText, { app: name })}</p>
      </EndPage>,
    );
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

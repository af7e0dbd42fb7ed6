import type { FastifyReply } from 'fastify';
import { randomToken, sha256 } from '../../crypto.js';
import { seal, unseal } from '../browser-binding.js';
import { codeIsUnused } from '../flow-consent.js';
import { isAt, redirectToCurrentStep, resolveFlow, sendHtml, type FlowContext } from '../flow-context.js';
import { claimStep, moveStep, parseFlowData, releaseStep, type FlowData } from '../flow-store.js';
import { ClaimUnavailablePage } from '../pages/claim-unavailable-page.js';
import { DonePage } from '../pages/done-page.js';
import { flowPath } from '../pages/layout.js';
import { finishFlowSession } from '../session.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/** Step 5: success; Accept sends the user back to the app with the code; the one-time flow offers to claim the connection. */
export function doneRoutes(kit: FlowRouteKit): void {
  const { app, env, db, clock, providers, options } = kit;

  app.get<{ Params: IdParams }>('/flow/:id/done', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'done')) return redirectToCurrentStep(reply, ctx);
    const bank = providers.get(ctx.data.providerId ?? '')?.describe();
    return sendHtml(
      reply,
      200,
      <DonePage view={ctx.view} bankName={bank?.name ?? ctx.data.providerId ?? ''} accounts={ctx.data.sharedAccounts ?? []} deleteAt={ctx.data.deleteAt ?? null} />,
    );
  });

  app.post<{ Params: IdParams }>('/flow/:id/done', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (ctx.position === 'returned') return replayReturn(ctx, reply);
    if (!isAt(ctx, 'done')) return redirectToCurrentStep(reply, ctx);
    if (!(await claimStep(db, ctx.flow, 'done', clock.now()))) {
      const settled = await resolveFlow(env, request, ctx.flow.id);
      if (!settled.ok) return kit.sendResolved(reply, settled);
      return settled.ctx.position === 'returned' ? replayReturn(settled.ctx, reply) : redirectToCurrentStep(reply, settled.ctx);
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
      const fresh = await env.readFlow(ctx.flow.id);
      if (fresh === undefined) break;
      data = parseFlowData(fresh.flow);
    }
    const url = data.returnSeal !== undefined ? unseal(ctx.secret, data.returnSeal) : null;
    if (url !== null && (await codeIsUnused(db, url, clock.now()))) return reply.redirect(url, 303);
    return reply.redirect(flowPath(ctx.flow.id, 'end'), 303);
  }

  /** "Keep it in a Ferry account": to the account pages, with a ticket they check (`verifyClaimTicket`). */
  app.post<{ Params: IdParams }>('/flow/:id/claim', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'done') || !ctx.view.oneTime) return redirectToCurrentStep(reply, ctx);
    if (!app.hasRoute({ method: 'GET', url: kit.claimPath })) return sendHtml(reply, 200, <ClaimUnavailablePage view={ctx.view} />);
    const ticket = randomToken(32);
    await moveStep(db, ctx.flow.id, 'done', 'done', { ...ctx.data, claimTicketHash: sha256(ticket) }, clock.now());
    return reply.redirect(`${kit.claimPath}?flow=${encodeURIComponent(ctx.flow.id)}&ticket=${encodeURIComponent(ticket)}`, 303);
  });
}

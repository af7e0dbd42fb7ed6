import type { FastifyReply } from 'fastify';
import { randomToken, sha256 } from '../../crypto.js';
import { seal, unseal } from '../browser-binding.js';
import { codeIsUnused } from '../flow-consent.js';
import { isAt, redirectToCurrentStep, resolveFlow, sendHtml, type FlowContext } from '../flow-context.js';
import { moveStep, type FlowData } from '../flow-store.js';
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
    // Kept in a Ferry account already (src/accounts/claim.ts): the page that says so, with Accept.
    if (ctx.data.claimedBy !== undefined) return reply.redirect(flowPath(ctx.flow.id, 'claimed'), 303);
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
    // One conditional UPDATE finishes the flow, only from its done step; the redirect back is sealed
    // with this browser's cookie in the same transaction, for a second press of Accept.
    const providerId = ctx.data.providerId;
    const finished = await finishFlowSession(options.flow, ctx.flow.id, {
      providerId: providerId ?? null,
      fromStep: 'done',
      finishedData: (redirectUrl) => JSON.stringify({ returnSeal: seal(ctx.secret, redirectUrl), ...(providerId !== undefined ? { providerId } : {}) } satisfies FlowData),
    });
    if (finished !== null) return reply.redirect(finished.redirectUrl, 303);
    // Another request finished (or cancelled) it first: go where that one went.
    const settled = await resolveFlow(env, request, ctx.flow.id);
    if (!settled.ok) return kit.sendResolved(reply, settled);
    return settled.ctx.position === 'returned' ? replayReturn(settled.ctx, reply) : redirectToCurrentStep(reply, settled.ctx);
  });

  /**
   * Accept pressed twice: the browser shows the second answer, so it must lead to the same place.
   * The same code is sent again only while the app has not used it (a replayed code would revoke
   * the app's tokens, RFC 6749 §4.1.2); after that, the page that says the flow is finished.
   */
  async function replayReturn(ctx: FlowContext, reply: FastifyReply) {
    const url = ctx.data.returnSeal !== undefined ? unseal(ctx.secret, ctx.data.returnSeal) : null;
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

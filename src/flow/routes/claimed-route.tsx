import { ACCOUNT_MESSAGES } from '../../accounts/messages.js';
import { isAt, redirectToCurrentStep, sendHtml } from '../flow-context.js';
import { flowPath } from '../pages/layout.js';
import { ClaimedPage } from '../pages/claimed-page.js';
import type { FlowRouteKit, IdParams } from './route-kit.js';

/** Back from /account/claim: the connection is kept; the user still presses Accept, so the app gets its code. */
export function claimedRoute(kit: FlowRouteKit): void {
  const { app, db } = kit;
  app.get<{ Params: IdParams }>('/flow/:id/claimed', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'done')) return redirectToCurrentStep(reply, ctx);
    const user = ctx.data.claimedBy !== undefined ? await db.selectFrom('users').select('email').where('id', '=', ctx.data.claimedBy).executeTakeFirst() : undefined;
    if (user === undefined) return reply.redirect(flowPath(ctx.flow.id, 'done'), 303);
    return sendHtml(reply, 200, <ClaimedPage view={ctx.view} a={ACCOUNT_MESSAGES[ctx.culture]} email={user.email} />);
  });
}

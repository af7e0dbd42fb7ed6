import type { FastifyInstance } from 'fastify';
import { registerFormBodyParser } from './form-body.js';
import { accountsRoutes } from './routes/accounts-routes.js';
import { bankRoutes } from './routes/bank-routes.js';
import { claimedRoute } from './routes/claimed-route.js';
import { consentRoutes } from './routes/consent-routes.js';
import { doneRoutes } from './routes/done-routes.js';
import { leaveRoutes } from './routes/leave-routes.js';
import { loginRoutes } from './routes/login-routes.js';
import { createRouteKit, type FlowRoutesOptions } from './routes/route-kit.js';
import { signInRoutes } from './routes/sign-in-routes.js';
import { startRoute } from './routes/start-route.js';
import { themeRoute } from './routes/theme-route.js';

export { DEFAULT_CLAIM_PATH, type FlowRoutesOptions } from './routes/route-kit.js';
export { errorFor } from './routes/leave-routes.js';

/**
 * The hosted connect flow (issue #4): the seed page's five steps as server-rendered pages.
 * Post → 303 → get throughout; every page checks that the flow is at its step; every post carries
 * the CSRF token; all state is in the flow's database row, so any Ferry process serves any step.
 *
 *   GET  /flow/start?f=<handle>        bind the flow to this browser
 *   GET  /flow/:id/consent   POST      1 consent
 *   GET  /flow/:id/signin    POST      (regular flow) sign in to a Ferry account by emailed code
 *   GET  /flow/:id/bank      POST      2 bank (POST /bank/change from 3 and 4)
 *   GET  /flow/:id/login     POST      3 bank login (/login/status, /login/retry, /callback)
 *   GET  /flow/:id/accounts  POST      4 accounts
 *   GET  /flow/:id/done      POST      5 done: Accept (POST /claim: keep the connection)
 *   GET  /flow/:id/claimed             5 after /account/claim: kept in a Ferry account; Accept
 *   POST /flow/:id/cancel, GET /flow/:id/end, GET /flow/theme/<hex>.css
 */
export async function flowRoutes(app: FastifyInstance, options: FlowRoutesOptions): Promise<void> {
  registerFormBodyParser(app);
  // Pages carry CSRF tokens and personal data: never cached, never indexed.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-robots-tag', 'noindex');
    return payload;
  });
  const kit = createRouteKit(app, options);
  for (const routes of [startRoute, consentRoutes, signInRoutes, bankRoutes, loginRoutes, accountsRoutes, doneRoutes, claimedRoute, leaveRoutes, themeRoute]) routes(kit);
}

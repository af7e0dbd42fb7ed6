import { sha256 } from '../../crypto.js';
import { browserSecret, newBrowserSecret, setBrowserCookie } from '../browser-binding.js';
import { buildContext, currentStepPath, expiredPage, otherBrowserPage, requestCulture, unknownFlowPage } from '../flow-context.js';
import { bindBrowser } from '../flow-store.js';
import { flowParams } from '../session.js';
import type { FlowRouteKit } from './route-kit.js';

/**
 * `GET /flow/start?f=<handle>`, where the connect endpoint's 301 leads: binds the flow to this
 * browser (the first one to open the link), then goes to the flow's step. The same browser
 * opening its link again carries on; another browser gets a page that leads back to the app.
 */
export function startRoute(kit: FlowRouteKit): void {
  const { app, env, db, clock, options } = kit;
  const secureCookie = (protocol: string) => options.publicUrl.startsWith('https://') || protocol === 'https';

  app.get('/flow/start', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const handle = (request.query as Record<string, unknown>).f;
    if (typeof handle !== 'string' || handle.length < 20 || handle.length > 100) return kit.sendResolved(reply, unknownFlowPage(env, requestCulture(request, null)));
    const id = sha256(handle);
    const loaded = await env.readFlow(id);
    if (loaded === undefined) return kit.sendResolved(reply, unknownFlowPage(env, requestCulture(request, null)));
    const culture = requestCulture(request, flowParams(loaded.flow));
    const existing = browserSecret(request, id, loaded.flow.browser_hash);
    if (existing !== null) return reply.redirect(currentStepPath(id, buildContext(env, loaded, culture, existing).position), 303);
    if (loaded.flow.browser_hash !== null) return kit.sendResolved(reply, otherBrowserPage(env, culture, loaded));
    const { secret, hash } = newBrowserSecret();
    const ctx = buildContext(env, loaded, culture, secret);
    const now = clock.now();
    if (loaded.flow.expires_at <= now) return kit.sendResolved(reply, expiredPage(env, ctx));
    if (!(await bindBrowser(db, id, hash, now))) return kit.sendResolved(reply, otherBrowserPage(env, culture, loaded));
    setBrowserCookie(reply, id, secret, secureCookie(request.protocol));
    return reply.redirect(currentStepPath(id, ctx.position), 303);
  });
}

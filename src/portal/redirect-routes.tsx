import { addRedirectUri, AppError, removeRedirectUri } from '../apps/apps.js';
import { field } from './apps-routes.js';
import { appPath } from './pages/app-pages.js';
import { RedirectsPage } from './pages/redirect-pages.js';
import type { PortalKit } from './portal-kit.js';
import { explainRefusedRedirect, tryRedirect } from './redirect-messages.js';

type AppParams = { Params: { appId: string } };
type Notices = { Querystring: { done?: string } };

const NOTICES: Record<string, string> = {
  added: 'Added. Connect requests may use it from now on.',
  removed: 'Removed. Connect requests to it are refused from now on.',
};

/** Redirect URLs: add and remove them with the CLI's rules, and the "try it" box. */
export function redirectRoutes(kit: PortalKit): void {
  const { app, db, clock, route, requireDeveloper } = kit;
  const guarded = { ...route, preHandler: requireDeveloper };

  app.get<AppParams & Notices>('/portal/apps/:appId/redirects', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    return kit.send(reply, <RedirectsPage view={kit.view(request, reply)} app={found} notice={NOTICES[request.query.done ?? ''] ?? null} />);
  });

  app.post<AppParams>('/portal/apps/:appId/redirects', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const uri = field(request.body, 'uri');
    const refused =
      uri.trim() === ''
        ? { headline: 'Enter the redirect URL to add.', detail: 'Write the whole address, e.g. https://budget.example.com/callback.' }
        : explainRefusedRedirect(uri);
    if (refused !== null) return kit.send(reply, <RedirectsPage view={kit.view(request, reply)} app={found} notice={null} refused={{ uri, why: refused }} />, 400);
    await addRedirectUri(db, clock, found.id, uri);
    return kit.seeOther(reply, `${appPath(found.id, '/redirects')}?done=added`);
  });

  app.post<AppParams>('/portal/apps/:appId/redirects/remove', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    try {
      await removeRedirectUri(db, found.id, field(request.body, 'uri'));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return kit.send(reply, <RedirectsPage view={kit.view(request, reply)} app={found} notice={null} removeError={error.message} />, 400);
    }
    return kit.seeOther(reply, `${appPath(found.id, '/redirects')}?done=removed`);
  });

  // Changes nothing; a post (with the form's CSRF token like every portal form) so the URL tried stays out of logs and history.
  app.post<AppParams>('/portal/apps/:appId/redirects/try', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const uri = field(request.body, 'uri').trim();
    const result = uri === '' ? { kind: 'no-match' as const, reason: 'Enter a URL to try.' } : tryRedirect(found.redirectUris, uri);
    return kit.send(reply, <RedirectsPage view={kit.view(request, reply)} app={found} notice={null} tried={{ uri, result }} />);
  });
}

import { NotFound } from '../errors.js';
import { listAppConsents, revokeAppConsent } from './consent-access.js';
import { appPath } from './pages/app-pages.js';
import { ConsentsPage } from './pages/consent-pages.js';
import type { PortalKit } from './portal-kit.js';

type AppParams = { Params: { appId: string } };

const NOTICES: Record<string, string> = {
  revoked: 'Consent revoked: its data is erased and your app is told by webhook. Its deletion receipt is below.',
};

/** The app's consents: status, deadline, revoke (as DELETE /v1/consents/{id}), deletion receipts. */
export function consentRoutes(kit: PortalKit): void {
  const { app, db, clock, route, requireDeveloper } = kit;
  const guarded = { ...route, preHandler: requireDeveloper };

  app.get<AppParams & { Querystring: { done?: string } }>('/portal/apps/:appId/consents', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const { consents, receipts } = await listAppConsents(db, found.id, clock.now());
    return kit.send(reply, <ConsentsPage view={kit.view(request, reply)} app={found} consents={consents} receipts={receipts} notice={NOTICES[request.query.done ?? ''] ?? null} />);
  });

  app.post<{ Params: { appId: string; consentId: string } }>('/portal/apps/:appId/consents/:consentId/revoke', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const revoked = await revokeAppConsent(kit.options.revoker, found.id, request.params.consentId);
    if (!revoked) {
      // Erased a moment ago (a double post, another tab): the receipt says so; anything else is not this app's.
      const receipt = await db.selectFrom('deletion_receipts').select('consent_id').where('consent_id', '=', request.params.consentId).where('app_id', '=', found.id).executeTakeFirst();
      if (receipt === undefined) throw new NotFound('No such consent for this app.');
    }
    return kit.seeOther(reply, `${appPath(found.id, '/consents')}?done=revoked`);
  });
}

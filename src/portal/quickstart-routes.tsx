import { sha256 } from '../crypto.js';
import { findApp } from '../apps/apps.js';
import { testCallbackUrl } from './apps-routes.js';
import { appPath } from './pages/app-pages.js';
import { QuickStartPage, TestCallbackPage } from './pages/quickstart-pages.js';
import type { PortalKit } from './portal-kit.js';
import { concreteRedirect, connectUrl, tokenExamples } from './quickstart.js';

type CallbackQuery = { Querystring: Record<string, string | undefined> };

/** The quick start of an app, and Ferry's test callback it may use as its first redirect URL. */
export function quickStartRoutes(kit: PortalKit): void {
  const { app, db, route, requireDeveloper } = kit;
  const { publicUrl, sandbox } = kit.options;

  app.get<{ Params: { appId: string } }>('/portal/apps/:appId/quickstart', { ...route, preHandler: requireDeveloper }, async (request, reply) => {
    const found = await kit.loadApp(request);
    const registration = found.redirectUris.find((u) => u === testCallbackUrl(publicUrl)) ?? found.redirectUris[0]!;
    const redirectUri = concreteRedirect(registration);
    return kit.send(
      reply,
      <QuickStartPage
        view={kit.view(request, reply)}
        app={found}
        publicUrl={publicUrl}
        connectUrl={connectUrl(publicUrl, found.id, redirectUri)}
        redirectUri={redirectUri}
        usesTestCallback={redirectUri === testCallbackUrl(publicUrl)}
        testCallback={testCallbackUrl(publicUrl)}
        sandbox={sandbox}
        examples={tokenExamples({ publicUrl, clientId: found.id, redirectUri })}
      />,
    );
  });

  // Public: the browser lands here straight from the hosted flow. It shows what an app's callback
  // would receive; the code is useless without the app's secret, which this page never has.
  app.get<CallbackQuery>('/portal/callback', route, async (request, reply) => {
    const q = request.query;
    const text = (v: string | undefined, max = 500) => (typeof v === 'string' && v.length <= max ? v : null);
    const code = text(q.code);
    const issued = code === null ? undefined : await db.selectFrom('authorization_codes').select(['app_id', 'expires_at']).where('hash', '=', sha256(code)).executeTakeFirst();
    const owner = issued === undefined ? undefined : await findApp(db, issued.app_id);
    const redirectUri = testCallbackUrl(publicUrl);
    reply.header('referrer-policy', 'no-referrer');
    return kit.send(
      reply,
      <TestCallbackPage
        query={{ code, consentId: text(q.consentId, 100), state: text(q.state), error: text(q.error, 100), errorDescription: text(q.error_description) }}
        expiresAt={issued?.expires_at ?? null}
        examples={code === null ? [] : tokenExamples({ publicUrl, clientId: owner?.id ?? '<CLIENT_ID>', redirectUri, code }).filter((e) => e.id !== 'ts-client')}
        portalAppPath={owner !== undefined ? appPath(owner.id, '/quickstart') : null}
      />,
    );
  });
}

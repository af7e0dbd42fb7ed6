import { AppError, findAppRow, setAppWebhook } from '../apps/apps.js';
import { randomToken } from '../crypto.js';
import { NotFound } from '../errors.js';
import { listDeliveries, recordTestEvent, redeliver, WebhookRequestRefused } from '../webhooks/deliveries.js';
import { field } from './apps-routes.js';
import { appPath } from './pages/app-pages.js';
import type { FieldError } from './pages/layout.js';
import { WebhooksPage } from './pages/webhook-pages.js';
import type { PortalKit } from './portal-kit.js';
import { sendReveal, takeReveal } from './reveal.js';

type AppParams = { Params: { appId: string } };
type Notices = { Querystring: { done?: string } };

const NOTICES: Record<string, string> = {
  saved: 'Webhook saved.',
  removed: 'Webhook removed: Ferry sends your app no more events.',
  test: 'Test event queued: Ferry is sending it now. Refresh to see the delivery.',
  redelivered: 'Queued again with the same event id: Ferry is sending it now.',
};

export const DELIVERIES_SHOWN = 20;

/** Webhooks: URL and signing secret, recent deliveries, redeliver, a test event (src/webhooks/deliveries.ts, as the API and CLI). */
export function webhookRoutes(kit: PortalKit): void {
  const { app, db, clock, route, requireDeveloper } = kit;
  const guarded = { ...route, preHandler: requireDeveloper };
  const queued = () => kit.options.onWebhookQueued?.();

  app.get<AppParams & Notices>('/portal/apps/:appId/webhooks', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const row = await findAppRow(db, found.id);
    const deliveries = await listDeliveries(db, { appId: found.id, limit: DELIVERIES_SHOWN });
    const reveal = takeReveal(request, reply, kit.browserSecret(request, reply), { appId: found.id, kind: 'webhook-secret' }, clock.now(), kit.secure);
    return kit.send(
      reply,
      <WebhooksPage view={kit.view(request, reply)} app={found} hasSecret={row?.webhook_secret != null} deliveries={deliveries} reveal={reveal} notice={NOTICES[request.query.done ?? ''] ?? null} />,
    );
  });

  app.post<AppParams>('/portal/apps/:appId/webhooks', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const row = await findAppRow(db, found.id);
    const form = { url: field(request.body, 'url').trim(), secret: field(request.body, 'secret') };
    const errors: FieldError[] = [];
    if (form.url === '') errors.push({ fieldId: 'url', message: 'Enter the webhook URL (or use “Remove the webhook”).' });
    const choice = form.secret === 'keep' && row?.webhook_secret != null ? 'keep' : form.secret === 'none' ? 'none' : 'new';
    const secret = choice === 'new' ? randomToken(32) : choice === 'none' ? null : undefined;
    if (errors.length === 0) {
      try {
        await setAppWebhook(db, found.id, { url: form.url, ...(secret !== undefined ? { secret } : {}) });
        if (secret) sendReveal(reply, kit.browserSecret(request, reply), { appId: found.id, kind: 'webhook-secret', secret, previousValidUntil: null, created: false }, clock.now(), kit.secure);
        return kit.seeOther(reply, `${appPath(found.id, '/webhooks')}?done=saved`);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        errors.push({ fieldId: 'url', message: error.message });
      }
    }
    const deliveries = await listDeliveries(db, { appId: found.id, limit: DELIVERIES_SHOWN });
    return kit.send(
      reply,
      <WebhooksPage view={kit.view(request, reply)} app={found} hasSecret={row?.webhook_secret != null} deliveries={deliveries} reveal={null} notice={null} form={form} errors={errors} />,
      400,
    );
  });

  app.post<AppParams>('/portal/apps/:appId/webhooks/remove', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    await setAppWebhook(db, found.id, { url: null });
    return kit.seeOther(reply, `${appPath(found.id, '/webhooks')}?done=removed`);
  });

  app.post<AppParams>('/portal/apps/:appId/webhooks/test', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    try {
      await recordTestEvent(db, found.id, clock.now());
    } catch (error) {
      // No webhook URL (removed in another tab): the page says so.
      if (!(error instanceof WebhookRequestRefused)) throw error;
      return kit.seeOther(reply, appPath(found.id, '/webhooks'));
    }
    queued();
    return kit.seeOther(reply, `${appPath(found.id, '/webhooks')}?done=test`);
  });

  app.post<{ Params: { appId: string; deliveryId: string } }>('/portal/apps/:appId/webhooks/deliveries/:deliveryId/redeliver', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    try {
      // Scoped to the app: another app's delivery id is not found.
      await redeliver(db, request.params.deliveryId, clock.now(), found.id);
    } catch (error) {
      if (!(error instanceof WebhookRequestRefused)) throw error;
      if (error.kind === 'not-found') throw new NotFound('No such delivery.');
      return kit.seeOther(reply, appPath(found.id, '/webhooks'));
    }
    queued();
    return kit.seeOther(reply, `${appPath(found.id, '/webhooks')}?done=redelivered`);
  });
}

import { AppError, createApp, findAppRow, rotateClientSecret, updateAppProfile } from '../apps/apps.js';
import type { FormBody } from '../flow/form-body.js';
import { ownersOf, visibleApps } from './app-access.js';
import { AppsListPage, appPath, GRACE_CHOICES, NewAppPage, OverviewPage, SettingsPage, type NewAppForm, type SettingsForm } from './pages/app-pages.js';
import type { FieldError } from './pages/layout.js';
import type { PortalKit } from './portal-kit.js';
import { explainRefusedRedirect } from './redirect-messages.js';
import { sendReveal, takeReveal } from './reveal.js';

type AppParams = { Params: { appId: string } };
type Notices = { Querystring: { done?: string } };

const NOTICES: Record<string, string> = {
  saved: 'Saved. The connect flow shows the new name and branding from now on.',
  'signed-in': 'You are signed in.',
};

export function field(body: unknown, name: string): string {
  const value = (body as FormBody | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** The ferry test callback: where a new app's users come back to while it has no callback of its own. */
export function testCallbackUrl(publicUrl: string): string {
  return `${publicUrl}/portal/callback`;
}

/** Apps: the list, registering one, its overview (client id, the secret once, rotation) and its name and branding. */
export function appsRoutes(kit: PortalKit): void {
  const { app, db, clock, route, requireDeveloper } = kit;
  const publicUrl = kit.options.publicUrl;
  const guarded = { ...route, preHandler: requireDeveloper };

  app.get<Notices>('/portal/apps', guarded, async (request, reply) => {
    const user = kit.developer(request);
    const apps = await visibleApps(db, user);
    const owners = user.isOperator ? await ownersOf(db, apps.map((a) => a.id)) : new Map<string, number>();
    const notice = NOTICES[request.query.done ?? ''] ?? null;
    return kit.send(reply, <AppsListPage view={kit.view(request, reply)} apps={apps.map((a) => ({ ...a, owners: owners.get(a.id) ?? 0 }))} notice={notice} />);
  });

  app.get('/portal/apps/new', guarded, async (request, reply) => {
    const form: NewAppForm = { name: '', redirectUri: testCallbackUrl(publicUrl) };
    return kit.send(reply, <NewAppPage view={kit.view(request, reply)} form={form} errors={[]} suggestedRedirect={testCallbackUrl(publicUrl)} />);
  });

  app.post('/portal/apps', guarded, async (request, reply) => {
    const user = kit.developer(request);
    const form: NewAppForm = { name: field(request.body, 'name').trim(), redirectUri: field(request.body, 'redirectUri').trim() };
    const errors: FieldError[] = [];
    if (form.name === '') errors.push({ fieldId: 'name', message: 'Enter the app’s name.' });
    else if (form.name.length > 100) errors.push({ fieldId: 'name', message: 'Shorten the name to 100 characters or fewer.' });
    if (form.redirectUri === '') errors.push({ fieldId: 'redirectUri', message: 'Enter the redirect URL your users come back to.' });
    else {
      const refused = explainRefusedRedirect(form.redirectUri);
      if (refused !== null) errors.push({ fieldId: 'redirectUri', message: `${refused.headline} ${refused.detail}` });
    }
    if (errors.length > 0) {
      return kit.send(reply, <NewAppPage view={kit.view(request, reply)} form={form} errors={errors} suggestedRedirect={testCallbackUrl(publicUrl)} />, 400);
    }
    const { app: created, clientSecret } = await createApp(db, clock, { name: form.name, redirectUris: [form.redirectUri], ownerUserId: user.id });
    request.log.info({ appId: created.id }, 'portal: app registered');
    sendReveal(reply, kit.browserSecret(request, reply), { appId: created.id, kind: 'client-secret', secret: clientSecret, previousValidUntil: null, created: true }, clock.now(), kit.secure);
    return kit.seeOther(reply, appPath(created.id));
  });

  app.get<AppParams & Notices>('/portal/apps/:appId', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const row = await findAppRow(db, found.id);
    const reveal = takeReveal(request, reply, kit.browserSecret(request, reply), { appId: found.id, kind: 'client-secret' }, clock.now(), kit.secure);
    return kit.send(
      reply,
      <OverviewPage
        view={kit.view(request, reply)}
        app={found}
        reveal={reveal}
        previousSecretValidUntil={row?.previous_secret_expires_at ?? null}
        hasWebhookSecret={row?.webhook_secret != null}
        publicUrl={publicUrl}
        notice={NOTICES[request.query.done ?? ''] ?? null}
        now={clock.now()}
      />,
    );
  });

  app.post<AppParams>('/portal/apps/:appId/rotate-secret', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const grace = Number(field(request.body, 'grace') || '0');
    // Only the offered choices: the form cannot be bent into a grace period of years.
    if (!GRACE_CHOICES.some((c) => c.seconds === grace)) return kit.seeOther(reply, appPath(found.id));
    const secret = await rotateClientSecret(db, clock, found.id, grace);
    request.log.info({ appId: found.id, graceSeconds: grace }, 'portal: client secret rotated');
    const previousValidUntil = grace > 0 ? clock.now() + grace * 1000 : null;
    sendReveal(reply, kit.browserSecret(request, reply), { appId: found.id, kind: 'client-secret', secret, previousValidUntil, created: false }, clock.now(), kit.secure);
    return kit.seeOther(reply, appPath(found.id));
  });

  app.get<AppParams & Notices>('/portal/apps/:appId/settings', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const form: SettingsForm = { name: found.name, logoUrl: found.logoUrl ?? '', brandColor: found.brandColor ?? '' };
    return kit.send(reply, <SettingsPage view={kit.view(request, reply)} app={found} form={form} errors={[]} notice={NOTICES[request.query.done ?? ''] ?? null} />);
  });

  app.post<AppParams>('/portal/apps/:appId/settings', guarded, async (request, reply) => {
    const found = await kit.loadApp(request);
    const form: SettingsForm = { name: field(request.body, 'name').trim(), logoUrl: field(request.body, 'logoUrl').trim(), brandColor: field(request.body, 'brandColor').trim() };
    const errors: FieldError[] = [];
    if (form.name === '') errors.push({ fieldId: 'name', message: 'Enter the app’s name.' });
    else if (form.name.length > 100) errors.push({ fieldId: 'name', message: 'Shorten the name to 100 characters or fewer.' });
    if (form.logoUrl !== '' && !/^https:\/\/[^\s]+$/.test(form.logoUrl)) errors.push({ fieldId: 'logoUrl', message: 'Enter the logo’s address starting with https://, or leave it empty.' });
    if (form.brandColor !== '' && !/^#[0-9a-fA-F]{6}$/.test(form.brandColor)) errors.push({ fieldId: 'brandColor', message: 'Enter the colour as # and six hex digits, like #0f766e, or leave it empty.' });
    if (errors.length === 0) {
      try {
        await updateAppProfile(db, found.id, { name: form.name, logoUrl: form.logoUrl || null, brandColor: form.brandColor || null });
        return kit.seeOther(reply, `${appPath(found.id, '/settings')}?done=saved`);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        errors.push({ fieldId: /logo/i.test(error.message) ? 'logoUrl' : /colour/i.test(error.message) ? 'brandColor' : 'name', message: error.message });
      }
    }
    return kit.send(reply, <SettingsPage view={kit.view(request, reply)} app={found} form={form} errors={errors} notice={null} />, 400);
  });
}

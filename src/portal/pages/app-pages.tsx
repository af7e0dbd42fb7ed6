import type { ComponentChildren } from 'preact';
import type { App } from '../../apps/apps.js';
import type { Reveal } from '../reveal.js';
import { CsrfField, ErrorSummary, formatTime, Notice, PortalPage, TextField, type FieldError, type PortalView } from './layout.js';

export type AppTab = 'overview' | 'quickstart' | 'redirects' | 'webhooks' | 'consents' | 'settings';

const TABS: { tab: AppTab; label: string; path: string }[] = [
  { tab: 'overview', label: 'Overview', path: '' },
  { tab: 'quickstart', label: 'Quick start', path: '/quickstart' },
  { tab: 'redirects', label: 'Redirect URLs', path: '/redirects' },
  { tab: 'webhooks', label: 'Webhooks', path: '/webhooks' },
  { tab: 'consents', label: 'Consents', path: '/consents' },
  { tab: 'settings', label: 'Name and branding', path: '/settings' },
];

export function appPath(appId: string, sub = ''): string {
  return `/portal/apps/${encodeURIComponent(appId)}${sub}`;
}

export interface AppFrameProps {
  view: PortalView;
  app: App;
  tab: AppTab;
  /** The page's own heading; the app's name by default. */
  title: string;
  hasError?: boolean;
  children: ComponentChildren;
}

/** Every page of one app: its name, the way back to the list, and the app's sections. */
export function AppFrame({ view, app, tab, title, hasError, children }: AppFrameProps) {
  return (
    <PortalPage view={view} title={title} hasError={hasError ?? false} breadcrumb={{ href: '/portal/apps', label: 'All apps' }}>
      <nav class="app-tabs" aria-label={`Sections of ${app.name}`}>
        <ul>
          {TABS.map((t) => (
            <li key={t.tab}>
              <a href={appPath(app.id, t.path)} aria-current={t.tab === tab ? 'page' : undefined}>
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </PortalPage>
  );
}

export function AppsListPage({ view, apps, notice }: { view: PortalView; apps: (App & { owners?: number })[]; notice: string | null }) {
  const operator = view.user?.isOperator ?? false;
  return (
    <PortalPage view={view} title="Your apps">
      <Notice text={notice} />
      {operator ? <p>You are an operator: you see and manage every app on this Ferry, including those registered with the CLI.</p> : null}
      {apps.length === 0 ? (
        <p>You have no apps yet. Register one to get a client id and secret, then follow its quick start to a first sandbox connection.</p>
      ) : (
        <ul class="app-list">
          {apps.map((a) => (
            <li key={a.id}>
              <a href={appPath(a.id)}>{a.name}</a>
              <p class="small">
                Client id <code>{a.id}</code>
              </p>
              <p class="small muted">
                {a.redirectUris.length} redirect URL{a.redirectUris.length === 1 ? '' : 's'} · created {formatTime(a.createdAt)}
                {operator && a.owners === 0 ? ' · no owner (CLI)' : ''}
                {a.isDemo ? ' · demo app' : ''}
              </p>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a class="button" href="/portal/apps/new">
          Register an app
        </a>
      </p>
    </PortalPage>
  );
}

export interface NewAppForm {
  name: string;
  redirectUri: string;
}

export function NewAppPage({ view, form, errors, suggestedRedirect }: { view: PortalView; form: NewAppForm; errors: FieldError[]; suggestedRedirect: string }) {
  const error = (id: string) => errors.find((e) => e.fieldId === id)?.message;
  return (
    <PortalPage view={view} title="Register an app" hasError={errors.length > 0} breadcrumb={{ href: '/portal/apps', label: 'All apps' }}>
      <ErrorSummary errors={errors} />
      <form method="post" action="/portal/apps" novalidate>
        <CsrfField view={view} />
        <TextField id="name" name="name" label="App name" hint="Your users see it in the connect flow." value={form.name} error={error('name')} maxLength={100} autocomplete="off" />
        <TextField
          id="redirectUri"
          name="redirectUri"
          label="First redirect URL"
          type="url"
          inputMode="url"
          spellcheck={false}
          hint={
            <>
              Where Ferry sends your users back with the code. To try Ferry before your app has a callback, keep <code>{suggestedRedirect}</code>: it shows the code and
              the token call to make with it. You can add your own URLs (a <code>*</code> is allowed in the path) later.
            </>
          }
          value={form.redirectUri}
          error={error('redirectUri')}
          maxLength={2000}
        />
        <button type="submit">Register the app</button>
      </form>
    </PortalPage>
  );
}

export const GRACE_CHOICES = [
  { seconds: 0, label: 'None: the current secret stops working at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
] as const;

export interface OverviewProps {
  view: PortalView;
  app: App;
  reveal: Reveal | null;
  previousSecretValidUntil: number | null;
  hasWebhookSecret: boolean;
  publicUrl: string;
  notice: string | null;
  now: number;
}

export function OverviewPage({ view, app, reveal, previousSecretValidUntil, hasWebhookSecret, publicUrl, notice, now }: OverviewProps) {
  return (
    <AppFrame view={view} app={app} tab="overview" title={app.name}>
      <Notice text={notice} />
      {reveal !== null ? <SecretBox reveal={reveal} app={app} publicUrl={publicUrl} /> : null}
      <dl class="facts">
        <dt>Client id</dt>
        <dd>
          <code>{app.id}</code>
        </dd>
        <dt>Client secret</dt>
        <dd>Shown once, when the app is registered or the secret rotated. Ferry keeps only a hash of it.</dd>
        {previousSecretValidUntil !== null && previousSecretValidUntil > now ? (
          <>
            <dt>Previous secret</dt>
            <dd>Still works until {formatTime(previousSecretValidUntil)}, then stops.</dd>
          </>
        ) : null}
        <dt>Redirect URLs</dt>
        <dd>
          {app.redirectUris.map((u) => (
            <code key={u} class="small">
              {u}
              <br />
            </code>
          ))}
        </dd>
        <dt>Webhook URL</dt>
        <dd>{app.webhookUrl !== null ? <code>{app.webhookUrl}</code> : 'None'}{app.webhookUrl !== null ? (hasWebhookSecret ? ' (signed)' : ' (not signed)') : ''}</dd>
        <dt>Registered</dt>
        <dd>{formatTime(app.createdAt)}</dd>
      </dl>
      <p>
        <a href={appPath(app.id, '/quickstart')}>Quick start: your first sandbox connection and token</a>
      </p>
      <section aria-labelledby="rotate-title">
        <h2 id="rotate-title">Rotate the client secret</h2>
        <p>You get a new secret, shown once. Choose how long the current one keeps working, so your servers can switch without downtime.</p>
        <form method="post" action={appPath(app.id, '/rotate-secret')}>
          <CsrfField view={view} />
          <fieldset class="field radios">
            <legend>The current secret keeps working for</legend>
            {GRACE_CHOICES.map((c, i) => (
              <label key={c.seconds}>
                <input type="radio" name="grace" value={String(c.seconds)} checked={i === 0} />
                {c.label}
              </label>
            ))}
          </fieldset>
          <button type="submit">Rotate secret</button>
        </form>
      </section>
    </AppFrame>
  );
}

function SecretBox({ reveal, app, publicUrl }: { reveal: Reveal; app: App; publicUrl: string }) {
  return (
    <section class="secret-box" aria-labelledby="secret-title">
      <h2 id="secret-title">{reveal.created ? 'Your app is registered: here is its client secret' : 'Your new client secret'}</h2>
      <code class="secret" id="client-secret">
        {reveal.secret}
      </code>
      <p>
        <strong>Copy it now: it is shown only this once.</strong> Ferry keeps only a hash and cannot show it again; if you lose it, rotate the secret.
      </p>
      {!reveal.created ? (
        <p>
          {reveal.previousValidUntil !== null
            ? `The previous secret keeps working until ${formatTime(reveal.previousValidUntil)}, then stops.`
            : 'The previous secret no longer works.'}
        </p>
      ) : null}
      <p>For the quick start’s examples, keep both in your shell:</p>
      <pre class="code">{`export FERRY_URL=${publicUrl}\nexport FERRY_CLIENT_ID=${app.id}\nexport FERRY_CLIENT_SECRET='${reveal.secret}'`}</pre>
      {reveal.created ? (
        <p>
          <a class="button" href={appPath(app.id, '/quickstart')}>
            Next: the quick start
          </a>
        </p>
      ) : null}
    </section>
  );
}

export interface SettingsForm {
  name: string;
  logoUrl: string;
  brandColor: string;
}

export function SettingsPage({ view, app, form, errors, notice }: { view: PortalView; app: App; form: SettingsForm; errors: FieldError[]; notice: string | null }) {
  const error = (id: string) => errors.find((e) => e.fieldId === id)?.message;
  return (
    <AppFrame view={view} app={app} tab="settings" title={`Name and branding of ${app.name}`} hasError={errors.length > 0}>
      <ErrorSummary errors={errors} />
      <Notice text={notice} />
      <p>Your users see these on every page of the connect flow.</p>
      <form method="post" action={appPath(app.id, '/settings')} novalidate>
        <CsrfField view={view} />
        <TextField id="name" name="name" label="App name" value={form.name} error={error('name')} maxLength={100} />
        <TextField
          id="logoUrl"
          name="logoUrl"
          label="Logo URL (optional)"
          type="url"
          inputMode="url"
          spellcheck={false}
          hint="An https address of a square image, shown at 40 × 40 pixels. Leave empty for your name’s first letter."
          value={form.logoUrl}
          error={error('logoUrl')}
          maxLength={2000}
        />
        <TextField
          id="brandColor"
          name="brandColor"
          label="Brand colour (optional)"
          hint="Six hex digits, like #0f766e. Buttons and links use it; Ferry darkens a light colour until white text on it is readable."
          value={form.brandColor}
          error={error('brandColor')}
          maxLength={7}
          spellcheck={false}
        />
        <button type="submit">Save</button>
      </form>
    </AppFrame>
  );
}

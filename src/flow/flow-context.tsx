import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { VNode } from 'preact';
import type { Clock } from '../clock.js';
import type { Database, FlowSessionRow } from '../db/schema.js';
import { renderPage } from '../http/page.js';
import { contentSecurityPolicy } from '../http/security-headers.js';
import { resolveCulture } from '../i18n/culture.js';
import { isOneTime, parseScopeList } from '../oauth/scopes.js';
import type { BankProvider, Culture, PsuContext } from '../providers/types.js';
import { brandStylesheetPath } from './brand.js';
import { browserSecret, csrfToken } from './browser-binding.js';
import {
  extendIdleDeadline,
  FLOW_STEPS,
  flowPosition,
  isEnded,
  isFlowId,
  parseFlowData,
  waitWhileBusy,
  type FlowData,
  type FlowPosition,
  type FlowReader,
  type FlowStep,
  type LoadedFlow,
} from './flow-store.js';
import { FLOW_MESSAGES, type FlowMessages } from './messages.js';
import { EndPage } from './pages/end-page.js';
import { flowPath, type FlowView } from './pages/layout.js';
import { FLOW_IDLE_TIMEOUT_MS, flowErrorRedirect, flowParams, type ConnectParams } from './session.js';
import { fill } from './text.js';

/** The banks the flow offers: the provider registry, or anything shaped like it (tests). */
export interface ProviderCatalogue {
  get(id: string): BankProvider | undefined;
  list(): BankProvider[];
}

export interface FlowEnvironment {
  db: Kysely<Database>;
  readFlow: FlowReader;
  clock: Clock;
  publicUrl: string;
  termsUrl: string | null;
  privacyUrl: string | null;
}

/** Everything a step handler needs about the flow the request belongs to. */
export interface FlowContext {
  loaded: LoadedFlow;
  flow: FlowSessionRow;
  data: FlowData;
  params: ConnectParams;
  position: FlowPosition;
  culture: Culture;
  t: FlowMessages;
  /** The browser's cookie secret: CSRF tokens and the sealed return are derived from it. */
  secret: string;
  view: FlowView;
  /** The user's request, as a bank that sees the user present must be told of it (PSD2 PSU headers). */
  psu?: PsuContext;
}

/** The PSU context of a request: what a bank asks about the user behind a user-present call. */
export function psuContextOf(request: FastifyRequest): PsuContext {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const psu: PsuContext = { ipAddress: request.ip, httpMethod: request.method };
  const fields: Array<[keyof PsuContext, string]> = [
    ['userAgent', 'user-agent'],
    ['accept', 'accept'],
    ['acceptCharset', 'accept-charset'],
    ['acceptEncoding', 'accept-encoding'],
    ['acceptLanguage', 'accept-language'],
  ];
  for (const [key, name] of fields) {
    const value = header(name);
    if (value !== undefined) (psu as unknown as Record<string, string>)[key] = value;
  }
  return psu;
}

export type ResolvedFlow = { ok: true; ctx: FlowContext } | { ok: false; status: number; html: string; logoUrl?: string | null };

export function requestCulture(request: FastifyRequest, params: ConnectParams | null): Culture {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = typeof query?.culture === 'string' ? query.culture : null;
  return resolveCulture(params?.culture ?? fromQuery, request.headers['accept-language']);
}

/**
 * Finds the flow a request belongs to and checks that this browser owns it and it has not expired.
 * When it cannot go on, the answer is a page that says why and links back to the app when Ferry
 * knows which app that is.
 */
export async function resolveFlow(env: FlowEnvironment, request: FastifyRequest, id: string): Promise<ResolvedFlow> {
  let loaded = isFlowId(id) ? await env.readFlow(id) : undefined;
  if (loaded === undefined) return unknownFlowPage(env, requestCulture(request, null));
  const params = flowParams(loaded.flow);
  const culture = requestCulture(request, params);
  const secret = browserSecret(request, id, loaded.flow.browser_hash);
  if (secret === null) {
    if (loaded.flow.browser_hash === null) return unknownFlowPage(env, culture);
    return otherBrowserPage(env, culture, loaded);
  }
  loaded = await waitWhileBusy(env.readFlow, env.clock, loaded);
  const now = env.clock.now();
  const position = flowPosition(loaded.flow);
  const ctx: FlowContext = { ...buildContext(env, loaded, culture, secret), psu: psuContextOf(request) };
  if (!isEnded(position)) {
    if (loaded.flow.expires_at <= now) return expiredPage(env, ctx);
    await extendIdleDeadline(env.db, loaded.flow, now);
  }
  return { ok: true, ctx };
}

export function buildContext(env: FlowEnvironment, loaded: LoadedFlow, culture: Culture, secret: string): FlowContext {
  const { flow, app } = loaded;
  const params = flowParams(flow);
  const t = FLOW_MESSAGES[culture];
  const consentPage = flowPath(flow.id, 'consent');
  const legal = (path: string) => `${path}?culture=${culture}&from=${encodeURIComponent(consentPage)}`;
  const view: FlowView = {
    culture,
    t,
    flowId: flow.id,
    csrf: csrfToken(secret),
    app: { name: app.name, logoUrl: app.logo_url },
    brandStylesheet: brandStylesheetPath(app.brand_color),
    steps: flowSteps(params.providerId !== null, isOneTime(parseScopeList(flow.scopes))),
    oneTime: isOneTime(parseScopeList(flow.scopes)),
    termsUrl: env.termsUrl ?? legal('/terms'),
    privacyUrl: env.privacyUrl ?? legal('/privacy'),
  };
  return { loaded, flow, data: parseFlowData(flow), params, position: flowPosition(flow), culture, t, secret, view };
}

/** The steps a flow shows: no bank step when the app chose the bank; the one-time flow signs in to no account. */
export function flowSteps(bankPreset: boolean, oneTime: boolean): readonly FlowStep[] {
  return FLOW_STEPS.filter((s) => !(bankPreset && s === 'bank') && !(oneTime && s === 'signin'));
}

/** Where the flow is now: its step's page, or the page for a flow that ended. */
export function currentStepPath(flowId: string, position: FlowPosition): string {
  return flowPath(flowId, isEnded(position) ? 'end' : position);
}

export function redirectToCurrentStep(reply: FastifyReply, ctx: FlowContext): FastifyReply {
  return reply.redirect(currentStepPath(ctx.flow.id, ctx.position), 303);
}

/** The step guard: a page or a post for another step than the flow's goes to the flow's step. */
export function isAt(ctx: FlowContext, step: FlowStep): boolean {
  return ctx.position === step;
}

export function sendHtml(reply: FastifyReply, status: number, page: VNode): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(renderPage(page));
}

/** The flow's pages show the app's logo; when it is an https URL, the page's CSP allows that one origin for images. */
export function allowAppLogo(reply: FastifyReply, logoUrl: string | null): void {
  const origin = externalOrigin(logoUrl);
  if (origin !== null) reply.header('content-security-policy', contentSecurityPolicy({ imgOrigins: [origin] }));
}

/** The origin of an app's logo registered as an https URL (apps may also give a path Ferry serves). */
function externalOrigin(url: string | null): string | null {
  if (url === null || !url.startsWith('https://')) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function neutralView(env: FlowEnvironment, culture: Culture): FlowView {
  return {
    culture,
    t: FLOW_MESSAGES[culture],
    flowId: '',
    csrf: '',
    app: { name: 'Ferry', logoUrl: null },
    brandStylesheet: null,
    steps: flowSteps(false, true),
    oneTime: true,
    termsUrl: env.termsUrl ?? `/terms?culture=${culture}`,
    privacyUrl: env.privacyUrl ?? `/privacy?culture=${culture}`,
  };
}

export function unknownFlowPage(env: FlowEnvironment, culture: Culture): ResolvedFlow {
  const view = neutralView(env, culture);
  const { t } = view;
  return {
    ok: false,
    status: 404,
    html: renderPage(
      <EndPage view={view} title={t.unknownTitle} tone="warning">
        <p>{t.unknownText}</p>
      </EndPage>,
    ),
  };
}

/** The flow's link was opened in a second browser: this one may not carry on, but it may go back to the app. */
export function otherBrowserPage(env: FlowEnvironment, culture: Culture, loaded: LoadedFlow): ResolvedFlow {
  const view = { ...neutralView(env, culture), app: { name: loaded.app.name, logoUrl: loaded.app.logo_url } };
  const { t } = view;
  const back = flowErrorRedirect(loaded.flow, env.publicUrl, 'access_denied', 'The connect link was opened in a second browser.');
  return {
    ok: false,
    status: 403,
    logoUrl: loaded.app.logo_url,
    html: renderPage(
      <EndPage view={view} title={t.otherBrowserTitle} tone="warning" action={{ href: back, label: fill(t.backToApp, { app: loaded.app.name }) }}>
        <p>{fill(t.otherBrowserText, { app: loaded.app.name })}</p>
      </EndPage>,
    ),
  };
}

export function expiredPage(env: FlowEnvironment, ctx: FlowContext): ResolvedFlow {
  const { t, view } = ctx;
  const back = flowErrorRedirect(ctx.flow, env.publicUrl, 'access_denied', 'The session expired before the user finished connecting.');
  return {
    ok: false,
    status: 410,
    logoUrl: ctx.view.app.logoUrl,
    html: renderPage(
      <EndPage view={view} title={t.expiredTitle} tone="warning" action={{ href: back, label: fill(t.backToApp, { app: view.app.name }) }}>
        <p>{fill(t.expiredText, { minutes: FLOW_IDLE_TIMEOUT_MS / 60_000 })}</p>
        <p>{fill(t.expiredAction, { app: view.app.name })}</p>
      </EndPage>,
    ),
  };
}

/** A post whose CSRF token does not match (an old tab, or a forged form): nothing happens. */
export function staleFormPage(ctx: FlowContext): VNode {
  const { t, view } = ctx;
  return (
    <EndPage view={view} title={t.staleFormTitle} tone="warning" action={{ href: currentStepPath(ctx.flow.id, ctx.position), label: t.staleFormAction }}>
      <p>{t.staleFormText}</p>
    </EndPage>
  );
}

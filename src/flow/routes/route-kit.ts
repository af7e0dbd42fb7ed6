import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import type { Kysely } from 'kysely';
import type { FerryDatabase } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import { createFlowReader } from '../flow-store.js';
import { csrfTokenMatches } from '../browser-binding.js';
import { allowAppLogo, resolveFlow, sendHtml, staleFormPage, type FlowContext, type FlowEnvironment, type ProviderCatalogue, type ResolvedFlow } from '../flow-context.js';
import type { FormBody } from '../form-body.js';
import type { LoginDeps } from '../login-steps.js';
import type { FlowDeps } from '../session.js';
import type { IdentityDeps } from '../../accounts/identity.js';

export interface FlowRoutesOptions {
  /** Consent creation and the redirect back to the app (src/flow/session.ts). */
  flow: FlowDeps;
  /** For the prepared read every request starts with; without it the flow reads through Kysely. */
  database?: FerryDatabase;
  providers: ProviderCatalogue;
  publicUrl: string;
  /** Operator's own terms and privacy pages; Ferry's `/terms` and `/privacy` otherwise. */
  termsUrl: string | null;
  privacyUrl: string | null;
  /** Where "keep this connection" leads (the account pages); the flow id and a ticket are appended. */
  claimPath?: string;
  /** Ferry accounts (src/accounts/): the regular flow's sign-in step; without them it goes straight to the bank. */
  accounts?: FlowAccounts;
}

export interface FlowAccounts {
  identity: IdentityDeps;
  /** Session cookies are Secure when Ferry is served over https. */
  secureCookies: boolean;
}

export const DEFAULT_CLAIM_PATH = '/account/claim';

export type IdParams = { id: string };

/** What every route module of the hosted flow is built from: its options, checked once, and the shared first steps of a request. */
export interface FlowRouteKit {
  app: FastifyInstance;
  options: FlowRoutesOptions;
  env: FlowEnvironment;
  db: Kysely<Database>;
  clock: Clock;
  providers: ProviderCatalogue;
  claimPath: string;
  /** Route config: browser routes answer errors with a page. */
  html: { html: true };
  /** Posts that reach the bank (a password, a new login) also count against the per-IP flow limit. */
  bankCall: { html: true; rateLimitScope: 'flow' };
  hide: { hide: true };
  deps(request: FastifyRequest): LoginDeps;
  /** Loads the flow, or answers with the page that says why it cannot go on (null then). */
  withFlow(request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply): Promise<FlowContext | null>;
  /** Like `withFlow`, for posts: the CSRF token must be this browser's. */
  withPostedFlow(request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply): Promise<FlowContext | null>;
  sendResolved(reply: FastifyReply, page: ResolvedFlow): FastifyReply;
}

export function createRouteKit(app: FastifyInstance, options: FlowRoutesOptions): FlowRouteKit {
  const { db, clock } = options.flow;
  const env: FlowEnvironment = { db, readFlow: createFlowReader(db, options.database), clock, publicUrl: options.publicUrl, termsUrl: options.termsUrl, privacyUrl: options.privacyUrl };

  const sendResolved = (reply: FastifyReply, page: ResolvedFlow): FastifyReply => {
    if (page.ok) throw new Error('sendResolved needs a page, not a flow');
    allowAppLogo(reply, page.logoUrl ?? null);
    return reply.code(page.status).type('text/html; charset=utf-8').send(page.html);
  };

  const withFlow: FlowRouteKit['withFlow'] = async (request, reply) => {
    const resolved = await resolveFlow(env, request, request.params.id);
    if (!resolved.ok) {
      sendResolved(reply, resolved);
      return null;
    }
    allowAppLogo(reply, resolved.ctx.view.app.logoUrl);
    return resolved.ctx;
  };

  const withPostedFlow: FlowRouteKit['withPostedFlow'] = async (request, reply) => {
    const ctx = await withFlow(request, reply);
    if (ctx === null) return null;
    if (!csrfTokenMatches(ctx.secret, ((request.body ?? {}) as FormBody)._csrf)) {
      request.log.info('hosted flow post refused: CSRF token missing or wrong');
      sendHtml(reply, 403, staleFormPage(ctx));
      return null;
    }
    return ctx;
  };

  return {
    app,
    options,
    env,
    db,
    clock,
    providers: options.providers,
    claimPath: options.claimPath ?? DEFAULT_CLAIM_PATH,
    html: { html: true },
    bankCall: { html: true, rateLimitScope: 'flow' },
    hide: { hide: true },
    deps: (request) => ({ ...env, log: request.log }),
    withFlow,
    withPostedFlow,
    sendResolved,
  };
}

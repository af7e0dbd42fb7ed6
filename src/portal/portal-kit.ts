import type { ConsentRevoker } from '../consents/revoke.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { VNode } from 'preact';
import type { IdentityDeps } from '../accounts/identity.js';
import { readUserSession, sessionToken } from '../accounts/sessions.js';
import { formSecret, formToken, formTokenMatches, type FormSecretCookie } from '../accounts/form-secret.js';
import type { App } from '../apps/apps.js';
import type { Clock } from '../clock.js';
import type { PortalConfig } from '../config.js';
import type { FerryDatabase } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { NotFound } from '../errors.js';
import { renderPage } from '../http/page.js';
import { findVisibleApp } from './app-access.js';
import type { PortalView } from './pages/layout.js';
import type { PortalUser } from './portal-user.js';

export interface PortalOptions {
  database: FerryDatabase;
  clock: Clock;
  /** Ferry's public URL (connect URLs, the quick start's examples). */
  publicUrl: string;
  /** The sandbox banks are on: the quick start connects to them. */
  sandbox: boolean;
  portal: PortalConfig;
  /** The identity core (src/accounts/): sign-in codes and sessions of kind 'portal'. */
  identity: IdentityDeps;
  /** The sandbox mailbox page, when mail is kept there instead of sent. */
  mailboxUrl: string | null;
  /** A webhook delivery was queued for now (the dispatcher looks at once). */
  onWebhookQueued?: () => void;
  /** Revocation: erasure, webhooks and the bank's consent (src/consents/revoke.ts). */
  revoker: ConsentRevoker;
}

/** What every portal route module is built from. */
export interface PortalKit {
  app: FastifyInstance;
  options: PortalOptions;
  db: Kysely<Database>;
  clock: Clock;
  /** Cookies get `Secure` when Ferry is served over https. */
  secure: boolean;
  /** Route config and schema of every portal route: an HTML error page, and out of the OpenAPI document. */
  route: { schema: { hide: true }; config: { html: true } };
  /** The preHandler of every page behind sign-in. */
  requireDeveloper: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** The signed-in developer (after {@link requireDeveloper}). */
  developer(request: FastifyRequest): PortalUser;
  view(request: FastifyRequest, reply: FastifyReply): PortalView;
  /** This browser's form secret (CSRF tokens, sealed reveals). */
  browserSecret(request: FastifyRequest, reply: FastifyReply): string;
  /** The app of `:appId` if this developer may see it; a 404 page otherwise. */
  loadApp(request: FastifyRequest): Promise<App>;
  send(reply: FastifyReply, page: VNode, status?: number): FastifyReply;
  /** Post → 303 → get. */
  seeOther(reply: FastifyReply, url: string): FastifyReply;
}

export const FORM_COOKIE_NAME = 'ferry_portal_form';

export function createPortalKit(app: FastifyInstance, options: PortalOptions): PortalKit {
  const { db } = options.database;
  const { clock } = options;
  const secure = options.publicUrl.startsWith('https://');
  const formCookie: FormSecretCookie = { name: FORM_COOKIE_NAME, path: '/portal', secure };
  const users = new WeakMap<FastifyRequest, PortalUser>();

  const requireDeveloper = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await readUserSession(db, clock, sessionToken(request, 'portal'), 'portal');
    if (session === null) {
      const path = request.method === 'GET' ? request.url : null;
      return reply.redirect(path !== null && isPortalPath(path) ? `/portal/sign-in?next=${encodeURIComponent(path)}` : '/portal/sign-in', 303);
    }
    const email = session.user.email;
    users.set(request, { id: session.user.id, email, isOperator: session.user.is_operator === 1 || options.portal.operators.includes(email) });
    return undefined;
  };

  return {
    app,
    options,
    db,
    clock,
    secure,
    route: { schema: { hide: true }, config: { html: true } },
    requireDeveloper,
    developer(request) {
      const user = users.get(request);
      if (user === undefined) throw new Error('requireDeveloper must run before the handler');
      return user;
    },
    view(request, reply) {
      return { user: users.get(request) ?? null, csrf: formToken(formSecret(request, reply, formCookie)) };
    },
    browserSecret(request, reply) {
      return formSecret(request, reply, formCookie);
    },
    async loadApp(request) {
      const { appId } = request.params as { appId: string };
      const found = await findVisibleApp(db, this.developer(request), appId);
      if (found === undefined) throw new NotFound('No such app.');
      return found;
    },
    send(reply, page, status = 200) {
      return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderPage(page));
    },
    seeOther(reply, url) {
      return reply.redirect(url, 303);
    },
  };
}

export function csrfMatches(request: FastifyRequest, secure: boolean, presented: unknown): boolean {
  return formTokenMatches(request, { name: FORM_COOKIE_NAME, path: '/portal', secure }, presented);
}

/** A `next` address after sign-in: a portal page of this origin, nothing else (no open redirect). */
export function isPortalPath(path: string): boolean {
  return /^\/portal(\/[A-Za-z0-9\-._~%/]*)?(\?[A-Za-z0-9\-._~%&=]*)?$/.test(path) && !path.includes('//') && !path.includes('..');
}

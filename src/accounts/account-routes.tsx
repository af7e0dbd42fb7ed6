import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import type { FerryDatabase } from '../db/database.js';
import { seal, unseal } from '../flow/browser-binding.js';
import { requestCulture, type ProviderCatalogue } from '../flow/flow-context.js';
import { registerFormBodyParser, type FormBody } from '../flow/form-body.js';
import { renderPage } from '../http/page.js';
import { recordClaim, verifyClaimTicket } from './claim.js';
import type { ConsentRevoker } from '../consents/revoke.js';
import { findUserConnection, listUserConnections, revokeUserConsent } from './connections.js';
import { formSecret, formToken, formTokenMatches, type FormSecretCookie } from './form-secret.js';
import { sendSignInCode, verifySignInCode, type IdentityDeps } from './identity.js';
import { accountView, AccountPage, Notice, type AccountView } from './pages/account-layout.js';
import { AccountSignInPage, ClaimConfirmPage, ClaimInvalidPage } from './pages/account-sign-in-page.js';
import { ConnectionsPage, RevokePage } from './pages/connections-page.js';
import { clearSessionCookie, createUserSession, endUserSession, readUserSession, sessionToken, setSessionCookie, type UserSession } from './sessions.js';
import { isEmailError, signInErrorText, signInStatus, type SignInState } from './sign-in-state.js';

export interface AccountRoutesOptions {
  identity: IdentityDeps;
  database: FerryDatabase;
  providers: ProviderCatalogue;
  /** Cookies are Secure when Ferry is served over https. */
  secureCookies: boolean;
  termsUrl: string | null;
  privacyUrl: string | null;
  /** Revocation: erasure, webhooks and the bank's consent (src/consents/revoke.ts). */
  revoker: ConsentRevoker;
}

const SIGN_IN_COOKIE = 'ferry_account_signin';
const CLAIM_COOKIE = 'ferry_account_claim';
const PATH = '/account';

/**
 * Ferry accounts' own pages (issue #6): sign-in by a code sent by email, My connections (stop
 * sharing, which erases the consent's data and tells the app), sign-out, and claiming a one-time
 * connection from the hosted flow's step 5. Post → 303 → get throughout; every form carries a
 * CSRF token derived from a cookie set before sign-in (form-secret.ts); the sign-in's progress
 * and a pending claim are kept in cookies sealed with that secret, so nothing is in memory.
 *
 *   GET  /account                                 My connections (signed in) or → sign-in
 *   GET  /account/sign-in[?another=1]   POST      email → code (intent = send | verify | resend | change)
 *   POST /account/sign-out
 *   GET  /account/connections/:id/revoke POST     confirm, then erase
 *   GET  /account/claim?flow=…&ticket=… POST      keep a one-time connection (from /flow/:id/claim)
 */
export async function accountRoutes(app: FastifyInstance, options: AccountRoutesOptions): Promise<void> {
  registerFormBodyParser(app);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-robots-tag', 'noindex');
    return payload;
  });
  const { identity, database } = options;
  const { db, clock } = identity;
  const formCookie: FormSecretCookie = { name: 'ferry_account_form', path: PATH, secure: options.secureCookies };
  const page = { schema: { hide: true }, config: { html: true } };
  const post = { schema: { hide: true }, config: { html: true, rateLimitScope: 'flow' as const } };

  const view = (request: FastifyRequest, reply: FastifyReply, session: UserSession | null): AccountView =>
    accountView(requestCulture(request, null), formToken(formSecret(request, reply, formCookie)), session?.user.email ?? null, options);
  const send = (reply: FastifyReply, status: number, node: VNode) => reply.code(status).type('text/html; charset=utf-8').send(renderPage(node));
  const session = (request: FastifyRequest) => readUserSession(db, clock, sessionToken(request, 'account'), 'account');
  const field = (request: FastifyRequest, name: string) => {
    const value = ((request.body ?? {}) as FormBody)[name];
    return typeof value === 'string' ? value : '';
  };
  /** A post whose CSRF token is not this browser's (an old tab, a forged form): nothing happens. */
  const checkPost = (request: FastifyRequest, reply: FastifyReply, user: UserSession | null): boolean => {
    if (formTokenMatches(request, formCookie, field(request, '_csrf'))) return true;
    request.log.info('account post refused: CSRF token missing or wrong');
    const v = view(request, reply, user);
    send(
      reply,
      403,
      <AccountPage view={v} title={v.t.accountSignInTitle}>
        <Notice text={v.t.staleForm} tone="warning" />
        <p class="step-form">
          <a class="button button-primary" href={PATH}>
            {v.t.connectionsTitle}
          </a>
        </p>
      </AccountPage>,
    );
    return false;
  };

  // The sign-in's progress and a pending claim: sealed with the browser's form secret.
  const readSealed = <T,>(request: FastifyRequest, name: string): T | null => {
    const raw = request.cookies[name];
    const secret = request.cookies[formCookie.name];
    if (raw === undefined || secret === undefined || raw.length > 4000) return null;
    const plain = unseal(secret, raw);
    if (plain === null) return null;
    try {
      return JSON.parse(plain) as T;
    } catch {
      return null;
    }
  };
  const writeSealed = (request: FastifyRequest, reply: FastifyReply, name: string, value: unknown | null) => {
    if (value === null) {
      reply.clearCookie(name, { path: PATH, httpOnly: true, sameSite: 'lax', secure: options.secureCookies });
      return;
    }
    const secret = formSecret(request, reply, formCookie);
    reply.setCookie(name, seal(secret, JSON.stringify(value)), { path: PATH, httpOnly: true, sameSite: 'lax', secure: options.secureCookies });
  };
  type PendingClaim = { flowId: string; ticket: string };
  const pendingClaim = async (request: FastifyRequest) => {
    const claim = readSealed<PendingClaim>(request, CLAIM_COOKIE);
    if (claim === null) return null;
    const checked = await verifyClaimTicket(db, claim.flowId, claim.ticket, clock.now());
    if (!checked.ok) return null;
    const appRow = await db.selectFrom('apps').select('name').where('id', '=', checked.flow.appId).executeTakeFirst();
    return { ...claim, appName: appRow?.name ?? '' };
  };

  app.get<{ Querystring: { done?: string } }>('/account', page, async (request, reply) => {
    const user = await session(request);
    if (user === null) return reply.redirect(`${PATH}/sign-in`, 303);
    const v = view(request, reply, user);
    const connections = await listUserConnections(db, user.user.id, clock.now());
    const notice = request.query.done === 'revoked' ? v.t.revokedNotice : request.query.done === 'unknown' ? v.t.unknownConnection : null;
    const bankName = (id: string | null) => (id === null ? '' : (options.providers.get(id)?.describe().name ?? id));
    return send(reply, 200, <ConnectionsPage view={v} connections={connections} bankName={bankName} notice={notice} />);
  });

  app.get<{ Querystring: { another?: string; done?: string } }>(`${PATH}/sign-in`, page, async (request, reply) => {
    const user = await session(request);
    const claim = await pendingClaim(request);
    if (user !== null && request.query.another === undefined) return reply.redirect(claim !== null ? `${PATH}/claim` : PATH, 303);
    const v = view(request, reply, null);
    const state = readSealed<SignInState>(request, SIGN_IN_COOKIE);
    const notice = request.query.done === 'signed-out' ? v.t.signedOutNotice : null;
    const claimInfo = claim !== null ? { app: claim.appName, backHref: `/flow/${claim.flowId}/done` } : null;
    if (state?.sent === true) {
      const error = isEmailError(state.error) ? null : signInErrorText(v.t, state);
      return send(reply, signInStatus(state ?? undefined, error), <AccountSignInPage view={v} state={{ kind: 'code', email: state.email, error, resent: state.notice === 'resent' }} notice={null} claim={claimInfo} />);
    }
    const error = state !== null ? signInErrorText(v.t, state) : null;
    return send(reply, signInStatus(state ?? undefined, error), <AccountSignInPage view={v} state={{ kind: 'email', email: state?.email ?? '', error }} notice={notice} claim={claimInfo} />);
  });

  app.post(`${PATH}/sign-in`, post, async (request, reply) => {
    if (!checkPost(request, reply, null)) return reply;
    const here = `${PATH}/sign-in`;
    const state = readSealed<SignInState>(request, SIGN_IN_COOKIE);
    const save = (next: SignInState | null) => {
      writeSealed(request, reply, SIGN_IN_COOKIE, next);
      return reply.redirect(here, 303);
    };
    const intent = field(request, 'intent');
    switch (intent) {
      case 'send':
      case 'resend': {
        const email = intent === 'resend' ? (state?.email ?? '') : field(request, 'email').slice(0, 300);
        const sent = await sendSignInCode(identity, { email, purpose: 'account', culture: requestCulture(request, null), ip: request.ip });
        if (sent.ok) return save({ email: sent.email, sent: true, ...(intent === 'resend' ? { notice: 'resent' as const } : {}) });
        if (sent.reason === 'mail_failed') request.log.error({ mailError: sent.mailError }, 'sign-in code not sent: the mail server failed');
        else request.log.info({ reason: sent.reason }, 'sign-in code not sent');
        return save({
          email: email.trim(),
          sent: intent === 'resend' && sent.reason === 'rate_limited',
          error: sent.reason,
          ...(sent.retryAfterSeconds !== undefined ? { retryAfterSeconds: sent.retryAfterSeconds } : {}),
        });
      }
      case 'verify': {
        if (state?.sent !== true) return reply.redirect(here, 303);
        const code = field(request, 'code').replace(/\s+/g, '');
        if (code === '') return save({ email: state.email, sent: true, error: 'code_missing' });
        const verified = await verifySignInCode(identity, { email: state.email, code, purpose: 'account' });
        if (!verified.ok) {
          request.log.info({ reason: verified.reason }, 'sign-in code refused');
          return save({ email: state.email, sent: true, error: verified.reason, ...(verified.attemptsLeft !== undefined ? { attemptsLeft: verified.attemptsLeft } : {}) });
        }
        await endUserSession(db, sessionToken(request, 'account'));
        setSessionCookie(reply, 'account', await createUserSession(db, clock, verified.user.id, 'account'), options.secureCookies);
        writeSealed(request, reply, SIGN_IN_COOKIE, null);
        // Signing in to keep a connection: the claim is what the user came for.
        const claim = readSealed<PendingClaim>(request, CLAIM_COOKIE);
        if (claim !== null) return finishClaim(request, reply, claim, verified.user.id);
        return reply.redirect(PATH, 303);
      }
      default:
        return save(null);
    }
  });

  app.post(`${PATH}/sign-out`, post, async (request, reply) => {
    if (!checkPost(request, reply, null)) return reply;
    await endUserSession(db, sessionToken(request, 'account'));
    clearSessionCookie(reply, 'account', options.secureCookies);
    writeSealed(request, reply, SIGN_IN_COOKIE, null);
    return reply.redirect(`${PATH}/sign-in?done=signed-out`, 303);
  });

  app.get<{ Params: { consentId: string } }>(`${PATH}/connections/:consentId/revoke`, page, async (request, reply) => {
    const user = await session(request);
    if (user === null) return reply.redirect(`${PATH}/sign-in`, 303);
    const connection = await findUserConnection(db, user.user.id, request.params.consentId.slice(0, 64), clock.now());
    if (connection === undefined) return reply.redirect(`${PATH}?done=unknown`, 303);
    return send(reply, 200, <RevokePage view={view(request, reply, user)} connection={connection} />);
  });

  app.post<{ Params: { consentId: string } }>(`${PATH}/connections/:consentId/revoke`, post, async (request, reply) => {
    const user = await session(request);
    if (!checkPost(request, reply, user)) return reply;
    if (user === null) return reply.redirect(`${PATH}/sign-in`, 303);
    const consentId = request.params.consentId.slice(0, 64);
    const receipt = await revokeUserConsent(options.revoker, { userId: user.user.id, consentId });
    if (receipt === null) return reply.redirect(`${PATH}?done=unknown`, 303);
    return reply.redirect(`${PATH}?done=revoked`, 303);
  });

  app.get<{ Querystring: { flow?: string; ticket?: string } }>(`${PATH}/claim`, page, async (request, reply) => {
    const { flow, ticket } = request.query;
    if (typeof flow === 'string' && typeof ticket === 'string') {
      // The ticket goes into a sealed cookie, and out of the address bar and the history.
      const checked = await verifyClaimTicket(db, flow, ticket, clock.now());
      if (!checked.ok) return send(reply, 404, <ClaimInvalidPage view={view(request, reply, await session(request))} />);
      writeSealed(request, reply, CLAIM_COOKIE, { flowId: flow, ticket } satisfies PendingClaim);
      return reply.redirect(`${PATH}/claim`, 303);
    }
    const user = await session(request);
    const claim = await pendingClaim(request);
    if (claim === null) return send(reply, 404, <ClaimInvalidPage view={view(request, reply, user)} />);
    if (user === null) return reply.redirect(`${PATH}/sign-in`, 303);
    return send(reply, 200, <ClaimConfirmPage view={view(request, reply, user)} app={claim.appName} backHref={`/flow/${claim.flowId}/done`} />);
  });

  app.post(`${PATH}/claim`, post, async (request, reply) => {
    const user = await session(request);
    if (!checkPost(request, reply, user)) return reply;
    if (user === null) return reply.redirect(`${PATH}/sign-in`, 303);
    const claim = readSealed<PendingClaim>(request, CLAIM_COOKIE);
    if (claim === null) return send(reply, 404, <ClaimInvalidPage view={view(request, reply, user)} />);
    return finishClaim(request, reply, claim, user.user.id);
  });

  /** Records the claim and sends the user back to the flow, which returns them to the app. */
  async function finishClaim(request: FastifyRequest, reply: FastifyReply, claim: PendingClaim, userId: string) {
    const result = await recordClaim(db, { flowId: claim.flowId, ticket: claim.ticket, userId, now: clock.now() });
    writeSealed(request, reply, CLAIM_COOKIE, null);
    if (!result.ok) return send(reply, 410, <ClaimInvalidPage view={view(request, reply, await session(request))} />);
    request.log.info({ consentId: result.consentId }, 'one-time connection claimed by a Ferry user');
    return reply.redirect(`/flow/${claim.flowId}/claimed`, 303);
  }
}

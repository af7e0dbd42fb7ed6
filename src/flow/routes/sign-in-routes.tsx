import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendSignInCode, verifySignInCode } from '../../accounts/identity.js';
import { ACCOUNT_MESSAGES } from '../../accounts/messages.js';
import { createUserSession, endUserSession, readUserSession, sessionToken, setSessionCookie } from '../../accounts/sessions.js';
import { isEmailError, signInErrorText, signInStatus, type SignInState } from '../../accounts/sign-in-state.js';
import { isAt, redirectToCurrentStep, sendHtml, type FlowContext } from '../flow-context.js';
import { moveStep, type FlowData } from '../flow-store.js';
import type { FormBody } from '../form-body.js';
import { beginLogin } from '../login-steps.js';
import { flowPath } from '../pages/layout.js';
import { SignInPage } from '../pages/sign-in-page.js';
import type { FlowAccounts, FlowRouteKit, IdParams } from './route-kit.js';

/**
 * The regular flow's account step (issue #6), between the consent and the bank: the user signs in
 * to a Ferry account, or creates one, with a 6-digit code sent by email; a browser already signed
 * in may go on as that user. The consent created at step 4 then belongs to that user (My
 * connections). The address and the sign-in's progress live in the flow's row (`data.signIn`),
 * so post → 303 → get holds as on every step; they are gone once the user signed in.
 *
 *   GET  /flow/:id/signin[?another=1]
 *   POST /flow/:id/signin   intent = send | verify | resend | change | continue
 */
export function signInRoutes(kit: FlowRouteKit): void {
  const { app, db, clock, providers, options } = kit;
  const accounts = options.accounts;
  if (accounts === undefined) return;

  app.get<{ Params: IdParams; Querystring: { another?: string } }>('/flow/:id/signin', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'signin')) return redirectToCurrentStep(reply, ctx);
    const a = ACCOUNT_MESSAGES[ctx.culture];
    const state = ctx.data.signIn;
    if (state?.sent === true) {
      const error = isEmailError(state.error) ? null : signInErrorText(a, state);
      return sendHtml(reply, signInStatus(state ?? undefined, error), <SignInPage view={ctx.view} a={a} state={{ kind: 'code', email: state.email, error, resent: state.notice === 'resent' }} />);
    }
    const session = request.query.another === undefined && state === undefined ? await currentSession(accounts, request) : null;
    if (session !== null) return sendHtml(reply, 200, <SignInPage view={ctx.view} a={a} state={{ kind: 'continue', email: session.user.email }} />);
    const error = state !== undefined ? signInErrorText(a, state) : null;
    const email = state?.email ?? (await prefilledEmail(kit, ctx));
    return sendHtml(reply, signInStatus(state ?? undefined, error), <SignInPage view={ctx.view} a={a} state={{ kind: 'email', email, error }} />);
  });

  app.post<{ Params: IdParams }>('/flow/:id/signin', { schema: kit.hide, config: kit.html }, async (request, reply) => {
    const ctx = await kit.withPostedFlow(request, reply);
    if (ctx === null) return reply;
    if (!isAt(ctx, 'signin')) return redirectToCurrentStep(reply, ctx);
    const body = (request.body ?? {}) as FormBody;
    const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const here = flowPath(ctx.flow.id, 'signin');
    const save = async (signIn: SignInState | undefined) => {
      const { signIn: _previous, ...rest } = ctx.data;
      await moveStep(db, ctx.flow.id, 'signin', 'signin', signIn === undefined ? rest : { ...rest, signIn }, clock.now());
      return reply.redirect(here, 303);
    };

    switch (field('intent')) {
      case 'continue': {
        const session = await currentSession(accounts, request);
        if (session === null) return reply.redirect(here, 303);
        return signedIn(request, reply, ctx, session.user.id);
      }
      case 'send':
      case 'resend': {
        const email = field('intent') === 'resend' ? (ctx.data.signIn?.email ?? '') : field('email').slice(0, 300);
        const sent = await sendSignInCode(accounts.identity, { email, purpose: 'account', culture: ctx.culture, ip: request.ip });
        if (sent.ok) return save({ email: sent.email, sent: true, ...(field('intent') === 'resend' ? { notice: 'resent' as const } : {}) });
        if (sent.reason === 'mail_failed') request.log.error({ mailError: sent.mailError }, 'sign-in code not sent: the mail server failed');
        else request.log.info({ reason: sent.reason }, 'sign-in code not sent');
        return save({
          email: email.trim(),
          sent: field('intent') === 'resend' && sent.reason === 'rate_limited',
          error: sent.reason,
          ...(sent.retryAfterSeconds !== undefined ? { retryAfterSeconds: sent.retryAfterSeconds } : {}),
        });
      }
      case 'verify': {
        const pending = ctx.data.signIn;
        if (pending?.sent !== true) return reply.redirect(here, 303);
        const code = field('code').replace(/\s+/g, '');
        if (code === '') return save({ email: pending.email, sent: true, error: 'code_missing' });
        const verified = await verifySignInCode(accounts.identity, { email: pending.email, code, purpose: 'account' });
        if (!verified.ok) {
          request.log.info({ reason: verified.reason }, 'sign-in code refused');
          return save({ email: pending.email, sent: true, error: verified.reason, ...(verified.attemptsLeft !== undefined ? { attemptsLeft: verified.attemptsLeft } : {}) });
        }
        await endUserSession(db, sessionToken(request, 'account'));
        const token = await createUserSession(db, clock, verified.user.id, 'account');
        setSessionCookie(reply, 'account', token, accounts.secureCookies);
        return signedIn(request, reply, ctx, verified.user.id);
      }
      case 'change':
      default:
        return save(undefined);
    }
  });

  /** Signed in: the flow remembers the user (not the address) and goes on to the bank, or to the bank's login when the app chose it. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, ctx: FlowContext, userId: string) {
    const { signIn: _done, ...rest } = ctx.data;
    const data: FlowData = { ...rest, userId };
    const preset = ctx.params.providerId !== null ? providers.get(ctx.params.providerId) : undefined;
    if (preset !== undefined) return reply.redirect(await beginLogin(kit.deps(request), { ...ctx, data }, preset, 'signin'), 303);
    await moveStep(db, ctx.flow.id, 'signin', 'bank', data, clock.now());
    return reply.redirect(flowPath(ctx.flow.id, 'bank'), 303);
  }
}

async function currentSession(accounts: FlowAccounts, request: FastifyRequest) {
  return readUserSession(accounts.identity.db, accounts.identity.clock, sessionToken(request, 'account'), 'account');
}

/** The `email` connect parameter, or the address of the user whose consent `consentId` names (this app's only). */
async function prefilledEmail(kit: FlowRouteKit, ctx: FlowContext): Promise<string> {
  if (ctx.params.email !== null) return ctx.params.email.slice(0, 254);
  if (ctx.params.consentId === null) return '';
  const row = await kit.db
    .selectFrom('consents')
    .innerJoin('users', 'users.id', 'consents.user_id')
    .select('users.email')
    .where('consents.id', '=', ctx.params.consentId)
    .where('consents.app_id', '=', ctx.flow.app_id)
    .executeTakeFirst();
  return row?.email ?? '';
}

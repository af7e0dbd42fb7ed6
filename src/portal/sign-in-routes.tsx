import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkEmail, sendSignInCode, verifySignInCode } from '../accounts/identity.js';
import { clearSessionCookie, createUserSession, endUserSession, readUserSession, sessionToken, setSessionCookie } from '../accounts/sessions.js';
import { seal, unseal } from '../flow/browser-binding.js';
import { field } from './apps-routes.js';
import { applyInvitation, mayEnterPortal } from './invitations.js';
import { CodePage, SignInPage } from './pages/sign-in-pages.js';
import { isPortalPath, type PortalKit } from './portal-kit.js';

/** The address a code was sent to, between the two sign-in pages: sealed for this browser, never in a URL. */
const PENDING_COOKIE = 'ferry_portal_pending';
const PENDING_TTL_MS = 15 * 60_000;

const EMAIL_PROBLEMS = {
  missing: 'Enter your email address.',
  too_long: 'Enter an email address of 254 characters or fewer.',
  invalid: 'Enter an email address like name@example.com.',
} as const;

const NOTICES: Record<string, string> = { 'signed-out': 'You are signed out.' };

/**
 * Sign-up and sign-in with an email and a one-time code, through Ferry's identity core
 * (src/accounts/: codes of purpose 'portal', sessions of kind 'portal'). With sign-up closed,
 * only invited addresses and operators get a code.
 */
export function signInRoutes(kit: PortalKit): void {
  const { app, db, clock, route, options } = kit;
  const flags = { path: '/portal', httpOnly: true, sameSite: 'lax' as const, secure: kit.secure };
  const nextOf = (body: unknown, query?: string): string | null => {
    const next = query ?? field(body, 'next');
    return next !== '' && isPortalPath(next) ? next : null;
  };
  const signedIn = async (request: FastifyRequest) => (await readUserSession(db, clock, sessionToken(request, 'portal'), 'portal')) !== null;
  const pendingEmail = (request: FastifyRequest, reply: FastifyReply): string | null => {
    const sealed = request.cookies[PENDING_COOKIE];
    if (sealed === undefined) return null;
    const opened = unseal(kit.browserSecret(request, reply), sealed);
    if (opened === null) return null;
    const pending = JSON.parse(opened) as { email: string; until: number };
    return pending.until > clock.now() ? pending.email : null;
  };

  app.get('/portal', route, async (request, reply) => kit.seeOther(reply, (await signedIn(request)) ? '/portal/apps' : '/portal/sign-in'));

  app.get<{ Querystring: { next?: string; done?: string } }>('/portal/sign-in', route, async (request, reply) => {
    const next = nextOf(undefined, request.query.next ?? '');
    if (await signedIn(request)) return kit.seeOther(reply, next ?? '/portal/apps');
    return kit.send(reply, <SignInPage view={kit.view(request, reply)} signup={options.portal.signup} next={next} notice={NOTICES[request.query.done ?? ''] ?? null} />);
  });

  app.post('/portal/sign-in', route, async (request, reply) => {
    const next = nextOf(request.body);
    const raw = field(request.body, 'email');
    const page = (error: string, status: number) =>
      kit.send(reply, <SignInPage view={kit.view(request, reply)} signup={options.portal.signup} next={next} email={raw} error={error} />, status);
    const checked = checkEmail(raw);
    if (!checked.ok) return page(EMAIL_PROBLEMS[checked.problem], 400);
    if (!(await mayEnterPortal(db, options.portal, checked.email))) {
      return page('This address has no invitation to this portal: sign-up here is by invitation. Ask the operator of this Ferry to invite you.', 403);
    }
    const sent = await sendSignInCode(options.identity, { email: checked.email, purpose: 'portal', culture: 'en', ip: request.ip });
    if (!sent.ok) {
      if (sent.reason === 'rate_limited') {
        const minutes = Math.max(1, Math.ceil((sent.retryAfterSeconds ?? 60) / 60));
        return page(`Too many codes were sent to this address or from your network. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, 429);
      }
      if (sent.reason === 'mail_failed') {
        request.log.error({ mailError: sent.mailError }, 'portal sign-in code not sent: the mail server failed');
        return page('We could not send the email right now. Try again in a little while.', 503);
      }
      if (sent.reason in EMAIL_PROBLEMS) return page(EMAIL_PROBLEMS[sent.reason as keyof typeof EMAIL_PROBLEMS], 400);
      // The mail server refused or was away: nothing was sent.
      return page('We could not send the email just now. Try again in a minute.', 503);
    }
    reply.setCookie(PENDING_COOKIE, seal(kit.browserSecret(request, reply), JSON.stringify({ email: sent.email, until: clock.now() + PENDING_TTL_MS })), flags);
    return kit.seeOther(reply, `/portal/sign-in/code${next !== null ? `?next=${encodeURIComponent(next)}` : ''}`);
  });

  app.get<{ Querystring: { next?: string } }>('/portal/sign-in/code', route, async (request, reply) => {
    const email = pendingEmail(request, reply);
    if (email === null) return kit.seeOther(reply, '/portal/sign-in');
    return kit.send(reply, <CodePage view={kit.view(request, reply)} email={email} next={nextOf(undefined, request.query.next ?? '')} mailboxUrl={options.mailboxUrl} />);
  });

  app.post('/portal/sign-in/code', route, async (request, reply) => {
    const next = nextOf(request.body);
    const email = pendingEmail(request, reply);
    if (email === null) return kit.seeOther(reply, '/portal/sign-in');
    const page = (error: string) => kit.send(reply, <CodePage view={kit.view(request, reply)} email={email} next={next} error={error} mailboxUrl={options.mailboxUrl} />, 400);
    const code = field(request.body, 'code');
    if (code.trim() === '') return page('Enter the 6-digit code from the email.');
    const verified = await verifySignInCode(options.identity, { email, code, purpose: 'portal' });
    if (!verified.ok) {
      if (verified.reason === 'wrong') {
        return page(`That code is not right. Check the latest email and try again (${verified.attemptsLeft ?? 1} ${verified.attemptsLeft === 1 ? 'try' : 'tries'} left).`);
      }
      return page(verified.reason === 'expired' ? 'That code has expired or was used. Send a new code.' : 'Too many wrong codes. Send a new code.');
    }
    // Sign-up may have closed, or the invitation been withdrawn, since the code was sent.
    if (!(await mayEnterPortal(db, options.portal, email))) return kit.seeOther(reply, '/portal/sign-in');
    await applyInvitation(db, verified.user.id, email);
    const token = await createUserSession(db, clock, verified.user.id, 'portal');
    setSessionCookie(reply, 'portal', token, kit.secure);
    reply.clearCookie(PENDING_COOKIE, flags);
    request.log.info({ userId: verified.user.id, created: verified.created }, 'portal: signed in');
    return kit.seeOther(reply, next ?? '/portal/apps');
  });

  app.post('/portal/sign-out', route, async (request, reply) => {
    await endUserSession(db, sessionToken(request, 'portal'));
    clearSessionCookie(reply, 'portal', kit.secure);
    return kit.seeOther(reply, '/portal/sign-in?done=signed-out');
  });
}

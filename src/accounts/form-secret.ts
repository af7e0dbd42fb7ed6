import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken, csrfTokenMatches, newBrowserSecret } from '../flow/browser-binding.js';

/**
 * CSRF for pages outside the hosted flow (account pages, the portal): the browser holds a random
 * secret in an HttpOnly, SameSite=Lax cookie scoped to the pages' path, set before any sign-in (so
 * the sign-in form itself is protected), and every form carries an HMAC of it
 * (src/flow/browser-binding.ts `csrfToken`), compared in constant time.
 */
export interface FormSecretCookie {
  name: string;
  path: string;
  secure: boolean;
}

/** This browser's form secret; a new one (set on the reply) when it has none yet. */
export function formSecret(request: FastifyRequest, reply: FastifyReply, cookie: FormSecretCookie): string {
  const existing = request.cookies[cookie.name];
  if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const { secret } = newBrowserSecret();
  reply.setCookie(cookie.name, secret, { path: cookie.path, httpOnly: true, sameSite: 'lax', secure: cookie.secure });
  request.cookies[cookie.name] = secret;
  return secret;
}

export function formToken(secret: string): string {
  return csrfToken(secret);
}

/** Whether a post carries this browser's form token. */
export function formTokenMatches(request: FastifyRequest, cookie: FormSecretCookie, presented: unknown): boolean {
  const secret = request.cookies[cookie.name];
  return secret !== undefined && csrfTokenMatches(secret, presented);
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, randomToken, sha256 } from '../crypto.js';

/**
 * A hosted flow belongs to the browser that first opened its link. The browser holds a random
 * secret in an HttpOnly, SameSite=Lax cookie; the flow row holds only its SHA-256
 * (`browser_hash`). Everything else a request needs is derived from that secret, so nothing is
 * kept in memory and any Ferry process can serve any step:
 *
 * - the CSRF token on every form is an HMAC of the secret, compared in constant time;
 * - the redirect back to the app (it carries the code) is sealed with a key derived from it, so a
 *   double-posted Accept can send the browser to the same place without the code being readable
 *   from the database.
 */

/** Cookies are per flow (their name carries the start of the flow id), so two tabs can run two flows. */
export function flowCookieName(flowId: string): string {
  return `ferry_flow_${flowId.slice(0, 16)}`;
}

export const FLOW_COOKIE_PATH = '/flow';

export function newBrowserSecret(): { secret: string; hash: string } {
  const secret = randomToken(32);
  return { secret, hash: sha256(secret) };
}

export function setBrowserCookie(reply: FastifyReply, flowId: string, secret: string, secure: boolean): void {
  reply.setCookie(flowCookieName(flowId), secret, { path: FLOW_COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure });
}

export function clearBrowserCookie(reply: FastifyReply, flowId: string, secure: boolean): void {
  reply.clearCookie(flowCookieName(flowId), { path: FLOW_COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure });
}

/** The browser's secret for this flow, when its hash is the one the flow was bound to. */
export function browserSecret(request: FastifyRequest, flowId: string, browserHash: string | null): string | null {
  const secret = request.cookies[flowCookieName(flowId)];
  if (secret === undefined || browserHash === null || secret.length > 100) return null;
  return constantTimeEqual(sha256(secret), browserHash) ? secret : null;
}

function derive(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

export function csrfToken(secret: string): string {
  return derive(secret, 'ferry flow csrf').toString('base64url');
}

export function csrfTokenMatches(secret: string, presented: unknown): boolean {
  return typeof presented === 'string' && constantTimeEqual(presented, csrfToken(secret));
}

/** AES-256-GCM under a key only the browser's cookie can rebuild. */
export function seal(secret: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(secret, 'ferry flow return'), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function unseal(secret: string, sealed: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', derive(secret, 'ferry flow return'), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

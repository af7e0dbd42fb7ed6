import type { FastifyReply, FastifyRequest } from 'fastify';
import { seal, unseal } from '../flow/browser-binding.js';

/**
 * A secret shown once (a new client secret, a new webhook secret) travels from the post that made
 * it to the page after it (post → 303 → get) in a short-lived cookie, sealed (AES-256-GCM) under a
 * key only this browser's form secret rebuilds: never through the database, never in a URL. The
 * page clears the cookie as it reads it, so a reload shows the secret no more.
 */
const REVEAL_COOKIE = 'ferry_portal_reveal';
/** A secret not looked at within this time is gone. */
const REVEAL_TTL_MS = 5 * 60_000;

export interface Reveal {
  appId: string;
  kind: 'client-secret' | 'webhook-secret';
  secret: string;
  /** A rotated client secret: until when the previous one keeps working (null: it stopped at once). */
  previousValidUntil: number | null;
  /** The app was just created. */
  created: boolean;
}

const flags = (secure: boolean) => ({ path: '/portal', httpOnly: true, sameSite: 'strict' as const, secure });

export function sendReveal(reply: FastifyReply, browserSecret: string, reveal: Reveal, now: number, secure: boolean): void {
  reply.setCookie(REVEAL_COOKIE, seal(browserSecret, JSON.stringify({ ...reveal, until: now + REVEAL_TTL_MS })), flags(secure));
}

/** The secret the previous post sealed for this app and kind, once. */
export function takeReveal(request: FastifyRequest, reply: FastifyReply, browserSecret: string, want: { appId: string; kind: Reveal['kind'] }, now: number, secure: boolean): Reveal | null {
  const sealed = request.cookies[REVEAL_COOKIE];
  if (sealed === undefined) return null;
  const opened = unseal(browserSecret, sealed);
  if (opened === null) {
    reply.clearCookie(REVEAL_COOKIE, flags(secure));
    return null;
  }
  const reveal = JSON.parse(opened) as Reveal & { until: number };
  if (reveal.appId !== want.appId || reveal.kind !== want.kind) return null;
  reply.clearCookie(REVEAL_COOKIE, flags(secure));
  if (reveal.until < now) return null;
  return { appId: reveal.appId, kind: reveal.kind, secret: reveal.secret, previousValidUntil: reveal.previousValidUntil, created: reveal.created };
}

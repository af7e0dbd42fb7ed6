import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { randomToken, sha256 } from '../crypto.js';
import type { Database, UserRow } from '../db/schema.js';

/**
 * Signed-in sessions: the browser holds a random token in an HttpOnly, SameSite=Lax cookie
 * (Secure when Ferry is served over https); the database holds only its SHA-256. A session ends
 * after {@link SESSION_IDLE_MS} without use, and {@link SESSION_MAX_MS} after sign-in at the latest.
 */
export type SessionKind = 'account' | 'portal';

export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
/** The idle deadline moves at most once a minute, so most requests write nothing. */
const TOUCH_EVERY_MS = 60_000;

export interface UserSession {
  id: string;
  user: UserRow;
  kind: SessionKind;
  createdAt: number;
  expiresAt: number;
}

/** Starts a session; returns the token for the cookie (see {@link setSessionCookie}). */
export async function createUserSession(db: Kysely<Database>, clock: Clock, userId: string, kind: SessionKind): Promise<string> {
  const token = randomToken(32);
  const now = clock.now();
  await db.insertInto('user_sessions').values({ id: sha256(token), user_id: userId, kind, created_at: now, expires_at: now + SESSION_IDLE_MS, last_seen_at: now }).execute();
  return token;
}

/** The live session of a token, its idle deadline moved on; null when unknown, expired or of another kind. */
export async function readUserSession(db: Kysely<Database>, clock: Clock, token: string | undefined, kind: SessionKind): Promise<UserSession | null> {
  if (token === undefined || token.length === 0 || token.length > 100) return null;
  const now = clock.now();
  const row = await db
    .selectFrom('user_sessions')
    .innerJoin('users', 'users.id', 'user_sessions.user_id')
    .select(['user_sessions.id', 'user_sessions.kind', 'user_sessions.created_at', 'user_sessions.expires_at', 'users.id as user_id', 'users.email', 'users.created_at as user_created_at', 'users.is_operator'])
    .where('user_sessions.id', '=', sha256(token))
    .executeTakeFirst();
  if (row === undefined || row.kind !== kind || row.expires_at <= now) return null;
  const expiresAt = Math.min(row.created_at + SESSION_MAX_MS, now + SESSION_IDLE_MS);
  if (expiresAt - row.expires_at >= TOUCH_EVERY_MS) {
    await db.updateTable('user_sessions').set({ expires_at: expiresAt, last_seen_at: now }).where('id', '=', row.id).execute();
  }
  return {
    id: row.id,
    kind,
    createdAt: row.created_at,
    expiresAt: Math.max(expiresAt, row.expires_at),
    user: { id: row.user_id, email: row.email, created_at: row.user_created_at, is_operator: row.is_operator },
  };
}

export async function endUserSession(db: Kysely<Database>, token: string | undefined): Promise<void> {
  if (token === undefined || token.length === 0 || token.length > 100) return;
  await db.deleteFrom('user_sessions').where('id', '=', sha256(token)).execute();
}

/** Expired sessions are forgotten (the retention sweeper's housekeeping). */
export async function purgeUserSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('user_sessions').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The cookie of each kind of session: readable on every path (the hosted flow offers "Continue as …"). */
export function sessionCookieName(kind: SessionKind): string {
  return `ferry_${kind}`;
}

export function setSessionCookie(reply: FastifyReply, kind: SessionKind, token: string, secure: boolean): void {
  reply.setCookie(sessionCookieName(kind), token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: SESSION_MAX_MS / 1000 });
}

export function clearSessionCookie(reply: FastifyReply, kind: SessionKind, secure: boolean): void {
  reply.clearCookie(sessionCookieName(kind), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

export function sessionToken(request: FastifyRequest, kind: SessionKind): string | undefined {
  return request.cookies[sessionCookieName(kind)];
}

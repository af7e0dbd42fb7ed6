import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { InsufficientScope, InvalidToken } from '../errors.js';
import type { TokenService } from '../oauth/token-service.js';

export interface BearerContext {
  consentId: string;
  appId: string;
  grantId: string;
  scopes: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    bearer?: BearerContext;
  }
}

/**
 * RFC 6750 bearer authentication for the data API: the JWT's signature and lifetime, the
 * `accounts` scope, and, on every request, that its grant is not revoked and its consent is
 * alive (not revoked, not past a one-time deadline, whatever the sweeper has done).
 */
export function bearerAuthentication(deps: { db: Kysely<Database>; clock: Clock; tokens: TokenService }) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined) throw new InvalidToken('A bearer access token is required (Authorization: Bearer …).');
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (match === null) throw new InvalidToken('The Authorization header must be "Bearer <access token>".');
    const claims = deps.tokens.verifyAccessToken(match[1]!);
    if (claims === null) throw new InvalidToken('The access token is invalid or expired.');
    if (!claims.scopes.split(' ').includes('Accounts')) throw new InsufficientScope('The access token lacks the accounts scope.');
    const now = deps.clock.now();
    const live = await deps.db
      .selectFrom('grants')
      .innerJoin('consents', 'consents.id', 'grants.consent_id')
      .select(['grants.revoked_at', 'grants.expires_at', 'grants.app_id', 'consents.id as consent_id', 'consents.status', 'consents.delete_at'])
      .where('grants.id', '=', claims.sessionId)
      .executeTakeFirst();
    if (
      live === undefined ||
      live.revoked_at !== null ||
      (live.expires_at !== null && live.expires_at <= now) ||
      live.status !== 'Active' ||
      (live.delete_at !== null && live.delete_at <= now) ||
      live.app_id !== claims.clientId
    ) {
      throw new InvalidToken('The access token was revoked, or its consent ended.');
    }
    request.bearer = { consentId: live.consent_id, appId: live.app_id, grantId: claims.sessionId, scopes: claims.scopes };
  };
}

import type { FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { InsufficientScope, InvalidToken } from '../errors.js';
import type { AccessTokenClaims, TokenService } from '../oauth/token-service.js';
import type { DataStore, Liveness } from './data-store.js';

export interface BearerContext {
  consentId: string;
  appId: string;
  grantId: string;
  scopes: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token's claims (RFC 6750), before its grant is known to be alive. */
    bearerClaims?: AccessTokenClaims;
    bearer?: BearerContext;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * RFC 6750 bearer authentication for the data API, in two steps:
 * 1. `verifyBearerToken`: the JWT's signature and lifetime and the `accounts` scope (no database);
 * 2. `requireLiveGrant`: on every request, that its grant is not revoked and its consent is alive
 *    (not revoked, not past a one-time deadline, whatever the sweeper has done), from a row read
 *    from the database for this request: by `bearerAuthentication`, or, where a route reads its
 *    data in the same query, by the route.
 */
export function verifyBearerToken(deps: { tokens: TokenService }) {
  return async function verifyToken(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined) throw new InvalidToken('A bearer access token is required (Authorization: Bearer …).');
    const match = BEARER.exec(header);
    if (match === null) throw new InvalidToken('The Authorization header must be "Bearer <access token>".');
    const claims = deps.tokens.verifyAccessToken(match[1]!);
    if (claims === null) throw new InvalidToken('The access token is invalid or expired.');
    if (!claims.scopes.split(' ').includes('Accounts')) throw new InsufficientScope('The access token lacks the accounts scope.');
    request.bearerClaims = claims;
  };
}

/** Step 2 over the grant and consent as read for this request; answers 401 unless both are alive. */
export function requireLiveGrant(request: FastifyRequest, live: Liveness | undefined, now: number): BearerContext {
  const claims = request.bearerClaims!;
  if (
    live === undefined ||
    live.grant_revoked_at !== null ||
    (live.grant_expires_at !== null && live.grant_expires_at <= now) ||
    live.consent_status !== 'Active' ||
    (live.consent_delete_at !== null && live.consent_delete_at <= now) ||
    live.grant_app_id !== claims.clientId
  ) {
    throw new InvalidToken('The access token was revoked, or its consent ended.');
  }
  request.bearer = { consentId: live.consent_id, appId: live.grant_app_id, grantId: claims.sessionId, scopes: claims.scopes };
  return request.bearer;
}

/** Both steps, for routes that read the liveness on its own. */
export function bearerAuthentication(deps: { store: DataStore; clock: Clock; tokens: TokenService }) {
  const verifyToken = verifyBearerToken(deps);
  return async function authenticate(request: FastifyRequest): Promise<void> {
    await verifyToken(request);
    const now = deps.clock.now();
    requireLiveGrant(request, await deps.store.liveness(request.bearerClaims!.sessionId), now);
  };
}

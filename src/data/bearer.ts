import type { FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { BearerTokenMissing, InsufficientScope, InvalidToken } from '../errors.js';
import type { AccessTokenClaims, TokenService } from '../oauth/token-service.js';
import type { AccountWireRow, DataStore, Liveness } from './data-store.js';

export interface BearerContext {
  consentId: string;
  appId: string;
  grantId: string;
  scopes: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    bearer?: BearerContext;
    /** The consent's accounts, read with the liveness (`withAccounts`). */
    consentAccounts?: AccountWireRow[];
    /** The account in the path if it is the consent's, read with the liveness (`withAccount`). */
    pathAccount?: AccountWireRow;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** The scheme alone (RFC 9110 §11.1: case-insensitive): any other scheme is no bearer token at all. */
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/**
 * RFC 6750 bearer authentication for the data API, as `onRequest` hooks: the JWT's signature and
 * lifetime and the `accounts` scope, then, on every request, that its grant is not revoked and its
 * consent is alive (not revoked, not past a one-time deadline, whatever the sweeper has done),
 * read from the database for this request. A route that reads the consent's accounts, or the
 * account in its path, gets them from the same query (one round trip to PostgreSQL).
 */
export function bearerAuthentication(deps: { store: DataStore; clock: Clock; tokens: TokenService }) {
  const { store, clock } = deps;
  const tokens = new VerifiedTokens(deps.tokens, clock);
  return {
    /** The grant and consent only. */
    async live(request: FastifyRequest): Promise<void> {
      const claims = verifyToken(tokens, request);
      const now = clock.now();
      request.bearer = requireLiveGrant(await store.liveness(claims.sessionId), claims, now);
    },

    /** …and the consent's accounts, in their order. */
    async withAccounts(request: FastifyRequest): Promise<void> {
      const claims = verifyToken(tokens, request);
      const now = clock.now();
      const { live, accounts } = await store.livenessAndAccounts(claims.sessionId);
      request.bearer = requireLiveGrant(live, claims, now);
      request.consentAccounts = accounts;
    },

    /** …and the account named by the path's `:accountId`, when it is the consent's. */
    async withAccount(request: FastifyRequest): Promise<void> {
      const claims = verifyToken(tokens, request);
      const now = clock.now();
      const { accountId } = request.params as { accountId: string };
      const { live, account } = await store.livenessAndAccount(claims.sessionId, accountId);
      request.bearer = requireLiveGrant(live, claims, now);
      if (account !== undefined) request.pathAccount = account;
    },
  };
}

/** How long a verified token is taken as verified without checking its signature again. */
export const VERIFIED_TOKEN_KEPT_MS = 60_000;
/** Verified tokens kept at most (an app's active users' tokens); the oldest go first. */
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * Access tokens whose signature was verified, by their exact text, with their claims: an app
 * sends the same token for an hour, and checking its HMAC and parsing its JSON again on every
 * request is a tenth of a small request's CPU. What may change about a token is checked on
 * every request all the same: its lifetime here, and its grant's and consent's liveness in the
 * database (the caller). A signature is a fact about the text; only the removal of its signing
 * key could change it, and retired keys verify for 15 days (src/tokens/signing-keys.ts), far
 * longer than a token lives; still, an entry is kept {@link VERIFIED_TOKEN_KEPT_MS} at most, as
 * long as the key store waits before it reloads. Tokens that fail are not kept.
 */
export class VerifiedTokens {
  private readonly kept = new Map<string, { claims: AccessTokenClaims; until: number }>();

  constructor(
    private readonly tokens: TokenService,
    private readonly clock: Clock,
  ) {}

  verify(token: string, now: number): AccessTokenClaims | null {
    const hit = this.kept.get(token);
    if (hit !== undefined) {
      // exp is in seconds, as verifyJwt compares it: expired from the second of exp on.
      if (now < hit.until && Math.floor(now / 1000) < hit.claims.exp) return hit.claims;
      this.kept.delete(token);
    }
    const claims = this.tokens.verifyAccessToken(token);
    if (claims === null) return null;
    // Kept in the order they were verified, so in the order they run out: the ones at the front
    // that have are dropped here, and memory follows the last minute's tokens, not the cap.
    for (const [kept, entry] of this.kept) {
      if (entry.until > now) break;
      this.kept.delete(kept);
    }
    if (this.kept.size >= VERIFIED_TOKENS_KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(token, { claims, until: now + VERIFIED_TOKEN_KEPT_MS });
    return claims;
  }

  now(): number {
    return this.clock.now();
  }

  /** Tokens kept now. */
  get size(): number {
    return this.kept.size;
  }
}

/** The token itself (RFC 6750 §2.1, §3.1): signature, lifetime and the accounts scope; no database. */
function verifyToken(tokens: VerifiedTokens, request: FastifyRequest): AccessTokenClaims {
  const header = request.headers.authorization;
  if (header === undefined || !BEARER_SCHEME.test(header)) throw new BearerTokenMissing('A bearer access token is required (Authorization: Bearer <access token>).');
  const match = BEARER.exec(header);
  if (match === null) throw new InvalidToken('The Authorization header must be "Bearer <access token>".');
  const claims = tokens.verify(match[1]!, tokens.now());
  if (claims === null) throw new InvalidToken('The access token is invalid or expired.');
  if (!claims.scopes.split(' ').includes('Accounts')) throw new InsufficientScope('The access token lacks the accounts scope.');
  return claims;
}

/** The grant and consent as read for this request: 401 unless both are alive and the token's client's. */
function requireLiveGrant(live: Liveness | undefined, claims: AccessTokenClaims, now: number): BearerContext {
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
  return { consentId: live.consent_id, appId: live.grant_app_id, grantId: claims.sessionId, scopes: claims.scopes };
}

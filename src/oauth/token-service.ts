import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { newId, randomToken, sha256 } from '../crypto.js';
import type { AppRow, ConsentRow, Database, GrantRow } from '../db/schema.js';
import { InvalidGrant, InvalidRequest } from '../errors.js';
import { JwtError, decodeJwt, signJwt, verifyJwt } from '../tokens/jwt.js';
import type { SigningKeys } from '../tokens/signing-keys.js';
import { isValidCodeVerifier, verifyCodeVerifier } from './pkce.js';
import { parseScopeList, scopesClaim, type Scope } from './scopes.js';
import { createTokenStore, type ConsentFacts, type TokenStore } from './token-store.js';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;

/** The token response of aiia-api.md §3, field for field. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  redirect_uri: string | null;
  refresh_token: string;
  token_type: 'bearer';
}

export interface TokenServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  keys: SigningKeys;
  issuer: string;
}

/** Claims of a verified access token (aiia-api.md §3). */
export interface AccessTokenClaims {
  userId: string;
  clientId: string;
  sessionId: string;
  consentId: string;
  scopes: string;
  exp: number;
}

/**
 * Issues, rotates and revokes tokens. Codes and refresh tokens are consumed by one conditional
 * UPDATE each, so of two concurrent uses exactly one wins; the loser is treated as a replay and
 * revokes the whole grant (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
 */
export class TokenService {
  /** The endpoint's SQL, each database its fastest way (token-store.ts). */
  private readonly store: TokenStore;

  constructor(private readonly deps: TokenServiceDeps) {
    this.store = createTokenStore(deps.db);
  }

  async exchangeAuthorizationCode(
    client: AppRow,
    input: { code: string; redirectUri: string | undefined; codeVerifier: string | undefined },
  ): Promise<TokenResponse> {
    const { clock } = this.deps;
    const store = this.store;
    const now = clock.now();
    const hash = sha256(input.code);
    // The code and its consent in one read; the consent is checked where it always was.
    const found = await store.findCode(hash);
    if (found === undefined || found.code.app_id !== client.id) throw new InvalidGrant('The authorization code is invalid.');
    const { code, consent } = found;
    if (code.consumed_at !== null) {
      // The row read says who won: its grant_id is the winner's grant.
      await this.revokeGrantOfReplayedCode(code.grant_id);
      throw new InvalidGrant('The authorization code was already used; the tokens issued for it are revoked.');
    }
    if (code.expires_at <= now) throw new InvalidGrant('The authorization code has expired.');
    // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
    if (input.redirectUri === undefined) throw new InvalidRequest('redirect_uri is required.');
    if (input.redirectUri !== code.redirect_uri) throw new InvalidGrant('redirect_uri does not match the one used at connect.');
    checkPkce(code.code_challenge, input.codeVerifier);

    if (consent === undefined || !isConsentUsable(consent, now)) throw new InvalidGrant('The consent behind this code is no longer active.');

    const grantId = newId();
    const scopes = parseScopeList(code.scopes);
    const refresh = this.newRefreshToken(client.id, consent, grantId, scopes, now);
    // One atomic write: the code consumed only if still unconsumed, with its grant and refresh token.
    const won = await store.consumeCode(hash, now, { id: grantId, app_id: client.id, consent_id: consent.id, scopes: code.scopes, expires_at: consent.delete_at }, refresh);
    if (!won) {
      // A concurrent use won between the read and the write: revoke what it was issued.
      await this.revokeGrantOfReplayedCode(await store.grantOfCode(hash));
      throw new InvalidGrant('The authorization code was already used; the tokens issued for it are revoked.');
    }
    return this.respond(client.id, consent, grantId, scopes, now, refresh.token, code.redirect_uri);
  }

  async refresh(client: AppRow, refreshToken: string): Promise<TokenResponse> {
    const { db, clock } = this.deps;
    const store = this.store;
    const now = clock.now();
    const claims = this.verifyRefreshToken(refreshToken, now);
    if (claims.clientId !== client.id) throw new InvalidGrant('The refresh token was not issued to this client.');
    const hash = sha256(claims.jti);

    const usedGrantId = await store.useRefreshToken(hash, now);
    if (usedGrantId === undefined) {
      const row = await store.findRefreshToken(hash);
      if (row !== undefined && row.used_at !== null) {
        // RFC 9700 §4.14.2: a rotated refresh token presented again means one copy was stolen.
        await revokeGrant(db, row.grant_id, now, 'refresh_token_reuse');
        throw new InvalidGrant('The refresh token was already used; every token of this grant is revoked.');
      }
      throw new InvalidGrant('The refresh token is invalid or expired.');
    }
    const grant = await store.findGrant(usedGrantId);
    if (grant === undefined || !isGrantUsable(grant, now) || grant.app_id !== client.id) throw new InvalidGrant('The grant of this refresh token is revoked or expired.');
    const consent = await store.findConsent(grant.consent_id);
    if (consent === undefined || !isConsentUsable(consent, now)) throw new InvalidGrant('The consent behind this refresh token is no longer active.');

    const scopes = parseScopeList(grant.scopes);
    const refresh = this.newRefreshToken(client.id, consent, grant.id, scopes, now);
    await store.addRefreshToken(grant.id, refresh, now);
    return this.respond(client.id, consent, grant.id, scopes, now, refresh.token, null);
  }

  /**
   * RFC 7009 §2.1: revokes the grant behind an access or refresh token of this client.
   * Unknown, foreign or malformed tokens are answered like revoked ones (§2.2): nothing to say.
   */
  async revoke(client: AppRow, token: string): Promise<void> {
    const decoded = decodeJwt(token);
    if (decoded === null) return;
    let claims: Record<string, unknown>;
    try {
      // Expiry does not matter for revocation; the signature does.
      claims = verifyJwt(token, (kid) => this.deps.keys.secretFor(kid), null);
    } catch {
      return;
    }
    if (claims.clientId !== client.id || typeof claims.sessionId !== 'string') return;
    await revokeGrant(this.deps.db, claims.sessionId, this.deps.clock.now(), 'revoked_by_client');
  }

  /** Verifies an access token's signature and lifetime (the data API then checks the grant). */
  verifyAccessToken(token: string): AccessTokenClaims | null {
    try {
      const claims = verifyJwt(token, (kid) => this.deps.keys.secretFor(kid), Math.floor(this.deps.clock.now() / 1000));
      if (claims.role !== 'ClientUser') return null;
      const { userId, clientId, sessionId, consentId, scopes, exp } = claims;
      if (typeof userId !== 'string' || typeof clientId !== 'string' || typeof sessionId !== 'string' || typeof consentId !== 'string' || typeof scopes !== 'string' || typeof exp !== 'number') return null;
      return { userId, clientId, sessionId, consentId, scopes, exp };
    } catch {
      return null;
    }
  }

  private verifyRefreshToken(token: string, now: number): { jti: string; clientId: string } {
    let claims: Record<string, unknown>;
    try {
      claims = verifyJwt(token, (kid) => this.deps.keys.secretFor(kid), Math.floor(now / 1000));
    } catch (error) {
      if (error instanceof JwtError && error.code === 'expired') throw new InvalidGrant('The refresh token has expired.');
      throw new InvalidGrant('The refresh token is invalid.');
    }
    if (claims.role !== 'RefreshToken' || typeof claims.jti !== 'string' || typeof claims.clientId !== 'string') {
      throw new InvalidGrant('The refresh token is invalid.');
    }
    return { jti: claims.jti, clientId: claims.clientId };
  }

  private newRefreshToken(clientId: string, consent: ConsentFacts, grantId: string, scopes: Scope[], now: number) {
    const jti = randomToken(32);
    const iat = Math.floor(now / 1000);
    const expiresAt = capAt(now + REFRESH_TOKEN_TTL_SECONDS * 1000, consent.delete_at);
    const token = signJwt(
      {
        iss: this.deps.issuer,
        userId: consent.user_id,
        clientId,
        consentId: consent.id,
        sessionId: grantId,
        role: 'RefreshToken',
        scopes: scopesClaim(scopes),
        jti,
        nbf: iat,
        iat,
        exp: Math.floor(expiresAt / 1000),
      },
      this.deps.keys.current(),
    );
    return { token, hash: sha256(jti), expiresAt };
  }

  private respond(clientId: string, consent: ConsentFacts, grantId: string, scopes: Scope[], now: number, refreshToken: string, redirectUri: string | null): TokenResponse {
    const iat = Math.floor(now / 1000);
    const exp = Math.floor(capAt(now + ACCESS_TOKEN_TTL_SECONDS * 1000, consent.delete_at) / 1000);
    const accessToken = signJwt(
      {
        iss: this.deps.issuer,
        userId: consent.user_id,
        clientId,
        role: 'ClientUser',
        sessionId: grantId,
        consentId: consent.id,
        scopes: scopesClaim(scopes),
        // Every access token is its own (RFC 9068 §2.2): two issued in one second still differ.
        jti: randomToken(12),
        nbf: iat,
        iat,
        exp,
      },
      this.deps.keys.current(),
    );
    return { access_token: accessToken, expires_in: exp - iat, redirect_uri: redirectUri, refresh_token: refreshToken, token_type: 'bearer' };
  }

  private async revokeGrantOfReplayedCode(grantId: string | null): Promise<void> {
    if (grantId) await revokeGrant(this.deps.db, grantId, this.deps.clock.now(), 'authorization_code_replay');
  }
}

function checkPkce(challenge: string | null, verifier: string | undefined): void {
  if (challenge === null) {
    if (verifier !== undefined) throw new InvalidGrant('code_verifier was sent, but the authorization request had no code_challenge.');
    return;
  }
  if (verifier === undefined) throw new InvalidGrant('code_verifier is required: the authorization request used PKCE.');
  if (!isValidCodeVerifier(verifier)) throw new InvalidRequest('code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).');
  if (!verifyCodeVerifier(verifier, challenge)) throw new InvalidGrant('code_verifier does not match the code_challenge (RFC 7636 §4.6).');
}

export async function revokeGrant(db: Kysely<Database>, grantId: string, now: number, reason: string): Promise<void> {
  await db.updateTable('grants').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', grantId).where('revoked_at', 'is', null).execute();
}

export function isConsentUsable(consent: Pick<ConsentRow, 'status' | 'delete_at'>, now: number): boolean {
  return consent.status === 'Active' && (consent.delete_at === null || consent.delete_at > now);
}

export function isGrantUsable(grant: Pick<GrantRow, 'revoked_at' | 'expires_at'>, now: number): boolean {
  return grant.revoked_at === null && (grant.expires_at === null || grant.expires_at > now);
}

function capAt(time: number, deadline: number | null): number {
  return deadline === null ? time : Math.min(time, deadline);
}

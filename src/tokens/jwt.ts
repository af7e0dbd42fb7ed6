import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compact JWS with HS256 (RFC 7515, RFC 7519), the algorithm of Aiia's tokens.
 *
 * Why not jose here: jose signs and verifies HMAC through WebCrypto's asynchronous API, about 60 µs
 * an operation on this machine, and the data API verifies a token on every request. node:crypto's
 * HMAC does the same in a few microseconds. The tests verify Ferry's tokens with jose, so the two
 * cannot drift apart.
 */

export interface JwtKey {
  kid: string;
  secret: Buffer;
}

export type JwtClaims = Record<string, string | number | boolean | null>;

const HEADER_CACHE = new Map<string, string>();

function encodedHeader(kid: string): string {
  let header = HEADER_CACHE.get(kid);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid })).toString('base64url');
    HEADER_CACHE.set(kid, header);
  }
  return header;
}

export function signJwt(claims: JwtClaims, key: JwtKey): string {
  const signingInput = `${encodedHeader(key.kid)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', key.secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

export type JwtFailure = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid';

export class JwtError extends Error {
  constructor(readonly code: JwtFailure) {
    super(`JWT ${code.replace('_', ' ')}`);
    this.name = 'JwtError';
  }
}

const MAX_TOKEN_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Splits and decodes a token without checking its signature; `null` when it is not a JWS at all. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: string; signature: string } | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return null;
  const [h, p, s] = [token.slice(0, first), token.slice(first + 1, second), token.slice(second + 1)];
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s)) return null;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || !isObject(claims)) return null;
    return { header, claims, signingInput: `${h}.${p}`, signature: s };
  } catch {
    return null;
  }
}

/**
 * Verifies an HS256 token: the algorithm is pinned (no `none`, no confusion, RFC 8725 §3.1),
 * the key is found by `kid`, and `exp`/`nbf` are checked against `now` (seconds; null: not checked,
 * for revocation, where an expired token may still be revoked).
 */
export function verifyJwt(token: string, keyFor: (kid: string) => Buffer | undefined, nowSeconds: number | null): Record<string, unknown> {
  const decoded = decodeJwt(token);
  if (decoded === null) throw new JwtError('malformed');
  const { header, claims, signingInput, signature } = decoded;
  if (header.alg !== 'HS256' || typeof header.kid !== 'string' || header.crit !== undefined) throw new JwtError('malformed');
  const secret = keyFor(header.kid);
  if (secret === undefined) throw new JwtError('unknown_key');
  const expected = createHmac('sha256', secret).update(signingInput).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new JwtError('bad_signature');
  if (typeof claims.exp !== 'number') throw new JwtError('malformed');
  if (nowSeconds === null) return claims;
  if (claims.exp <= nowSeconds) throw new JwtError('expired');
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + 5) throw new JwtError('not_yet_valid');
  return claims;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

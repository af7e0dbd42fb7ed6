import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** Random bytes drawn from the system's CSPRNG 4 KiB at a time: one call into it per ~100 tokens, not one per token. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A random 256-bit value, base64url: authorization codes, refresh-token ids, flow handles. */
export function randomToken(bytes = 32): string {
  if (bytes > 256) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + bytes);
  // Each byte serves one token only; wiped once used, so the pool never holds a past token.
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

export function sha256(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function newId(): string {
  return randomUUID();
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

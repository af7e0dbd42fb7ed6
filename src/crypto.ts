import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** A random 256-bit value, base64url: authorization codes, refresh-token ids, flow handles. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
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

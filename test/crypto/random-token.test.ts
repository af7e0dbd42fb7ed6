import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomToken } from '../../src/crypto.js';

describe('randomToken (pooled CSPRNG bytes)', () => {
  it('gives the asked number of bytes, base64url, and never the same token twice across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const token = randomToken(32);
      assert.equal(Buffer.from(token, 'base64url').length, 32);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!seen.has(token), 'a token came back');
      seen.add(token);
    }
    for (const bytes of [1, 6, 12, 255, 256, 300, 5000]) assert.equal(Buffer.from(randomToken(bytes), 'base64url').length, bytes);
  });

  it('spreads its bytes evenly (no zeroed or reused pool bytes)', () => {
    const counts = new Array<number>(256).fill(0);
    const n = 2_000;
    for (let i = 0; i < n; i++) for (const byte of Buffer.from(randomToken(32), 'base64url')) counts[byte]!++;
    const expected = (n * 32) / 256;
    // Every byte value within ±40 % of its expected count (250 ± 100): a zero-filled or repeated pool fails this at once.
    for (const [value, count] of counts.entries()) assert.ok(Math.abs(count - expected) < expected * 0.4, `byte ${value}: ${count} times, expected about ${expected}`);
  });
});

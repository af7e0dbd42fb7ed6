import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { VERIFIED_TOKEN_KEPT_MS, VerifiedTokens } from '../../src/data/bearer.js';
import type { AccessTokenClaims, TokenService } from '../../src/oauth/token-service.js';

describe('verified access tokens kept by their text (bearer.ts)', () => {
  /** A token service that takes every token for valid for a day, and counts its signature checks. */
  function setUp() {
    const clock = new ManualClock();
    const checked: string[] = [];
    const service = {
      verifyAccessToken(token: string): AccessTokenClaims {
        checked.push(token);
        return { userId: 'u', clientId: 'c', sessionId: token, consentId: 'k', scopes: 'accounts', exp: Math.floor(clock.now() / 1000) + 86_400 };
      },
    } as unknown as TokenService;
    return { clock, checked, tokens: new VerifiedTokens(service, clock) };
  }

  it('checks a token’s signature once a minute, not on every request', () => {
    const { clock, checked, tokens } = setUp();
    tokens.verify('a', clock.now());
    clock.advance(VERIFIED_TOKEN_KEPT_MS - 1);
    tokens.verify('a', clock.now());
    assert.deepEqual(checked, ['a']);
    clock.advance(1);
    tokens.verify('a', clock.now());
    assert.deepEqual(checked, ['a', 'a']);
  });

  it('keeps only the last minute’s tokens, however many came before: memory follows the rate, not the cap', () => {
    const { clock, tokens } = setUp();
    for (let i = 0; i < 100; i++) {
      tokens.verify(`old-${i}`, clock.now());
      clock.advance(100);
    }
    assert.equal(tokens.size, 100);
    clock.advance(VERIFIED_TOKEN_KEPT_MS);
    tokens.verify('new', clock.now());
    assert.equal(tokens.size, 1);
  });
});

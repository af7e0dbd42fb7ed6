import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROVIDER_MESSAGES, providerMessage } from '../../src/providers/messages.js';

describe('the providers’ message catalogue', () => {
  const cultures = Object.keys(PROVIDER_MESSAGES) as (keyof typeof PROVIDER_MESSAGES)[];
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  test('covers en, da, sv, nb, fi and de with the same keys and placeholders, none empty', () => {
    assert.deepEqual(cultures, ['en', 'da', 'sv', 'nb', 'fi', 'de']);
    const keys = Object.keys(PROVIDER_MESSAGES.en);
    for (const culture of cultures) {
      assert.deepEqual(Object.keys(PROVIDER_MESSAGES[culture]), keys, culture);
      for (const key of keys as (keyof typeof PROVIDER_MESSAGES.en)[]) {
        const text = PROVIDER_MESSAGES[culture][key];
        assert.ok(text.trim().length > 0, `${culture}.${key}`);
        assert.deepEqual(placeholders(text), placeholders(PROVIDER_MESSAGES.en[key]), `${culture}.${key} placeholders`);
        if (culture !== 'en' && !['pin'].includes(key)) assert.notEqual(text, PROVIDER_MESSAGES.en[key], `${culture}.${key} is translated`);
      }
    }
  });

  test('fills placeholders', () => {
    assert.equal(providerMessage('sv', 'otpHint', { code: '123456' }), 'Sandlådebank: koden är 123456.');
    assert.equal(providerMessage('en', 'loginTitle', { bank: 'Test Data Bank 1' }), 'Log in to Test Data Bank 1');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCOUNT_MESSAGES, type AccountMessageKey } from '../../src/accounts/messages.js';
import { placeholders } from '../../src/flow/text.js';
import { CULTURES } from '../../src/i18n/culture.js';

describe('Ferry accounts messages catalogue', () => {
  const english = ACCOUNT_MESSAGES.en;
  const keys = Object.keys(english) as AccountMessageKey[];

  it('has a catalogue for every culture Ferry speaks', () => {
    assert.deepEqual(Object.keys(ACCOUNT_MESSAGES).sort(), [...CULTURES].sort());
  });

  for (const culture of CULTURES) {
    it(`${culture}: every key of the English catalogue and no other, none empty, the same {placeholders}`, () => {
      const catalogue = ACCOUNT_MESSAGES[culture] as Record<string, unknown>;
      const missing = keys.filter((key) => !(key in catalogue));
      const extra = Object.keys(catalogue).filter((key) => !(key in english));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
      assert.deepEqual(keys.filter((key) => typeof catalogue[key] !== 'string' || (catalogue[key] as string).trim() === ''), []);
      assert.deepEqual(keys.filter((key) => placeholders(catalogue[key] as string).join() !== placeholders(english[key]).join()), []);
    });
  }

  it('is translated: no language but English reuses the English text of a sentence', () => {
    for (const culture of CULTURES.filter((c) => c !== 'en')) {
      const same = keys.filter((key) => ACCOUNT_MESSAGES[culture][key] === english[key] && english[key].split(' ').length > 3);
      assert.deepEqual(same, [], culture);
    }
  });

  it('the sign-in mail says the code and how long it works in every language', () => {
    for (const culture of CULTURES) {
      assert.deepEqual(placeholders(ACCOUNT_MESSAGES[culture].mailText), ['code', 'minutes'], culture);
      assert.deepEqual(placeholders(ACCOUNT_MESSAGES[culture].mailSubject), ['code'], culture);
    }
  });
});

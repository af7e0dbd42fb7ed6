import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CULTURES } from '../../src/i18n/culture.js';
import { FLOW_MESSAGES, type MessageKey } from '../../src/flow/messages.js';
import { placeholders } from '../../src/flow/text.js';

describe('hosted flow messages catalogue', () => {
  const english = FLOW_MESSAGES.en;
  const keys = Object.keys(english) as MessageKey[];

  it('has a catalogue for every culture Ferry speaks', () => {
    assert.deepEqual(Object.keys(FLOW_MESSAGES).sort(), [...CULTURES].sort());
  });

  for (const culture of CULTURES) {
    describe(culture, () => {
      const catalogue = FLOW_MESSAGES[culture] as Record<string, unknown>;

      it('has every key of the English catalogue, and no other', () => {
        const missing = keys.filter((key) => !(key in catalogue));
        const extra = Object.keys(catalogue).filter((key) => !(key in english));
        assert.deepEqual({ missing, extra }, { missing: [], extra: [] });
      });

      it('has no empty string', () => {
        const empty = keys.filter((key) => typeof catalogue[key] !== 'string' || (catalogue[key] as string).trim() === '');
        assert.deepEqual(empty, []);
      });

      it('uses the same {placeholders} as English in every string', () => {
        const wrong = keys.filter((key) => placeholders(catalogue[key] as string).join() !== placeholders(english[key]).join());
        assert.deepEqual(wrong, []);
      });

      it('has both plural forms wherever English has them', () => {
        for (const key of keys.filter((k) => k.endsWith('_one'))) assert.ok(`${key.slice(0, -4)}_other` in catalogue, key);
      });
    });
  }

  it('is translated: no language but English reuses the English text of a sentence', () => {
    for (const culture of CULTURES.filter((c) => c !== 'en')) {
      const same = keys.filter((key) => (FLOW_MESSAGES[culture][key] === english[key] && english[key].split(' ').length > 3));
      assert.deepEqual(same, [], culture);
    }
  });
});

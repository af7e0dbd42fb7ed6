import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainErrorPage, renderErrorPage } from '../../src/http/error-page.js';
import { ERROR_PAGE_MESSAGES } from '../../src/i18n/error-messages.js';

describe('the error page without the page renderer (a broken deployment still answers a page)', () => {
  it('says the same things as the styled page, in the user’s language', () => {
    const t = ERROR_PAGE_MESSAGES.da;
    const plain = plainErrorPage('da', 'serverError', 'req-1');
    assert.match(plain, /^<!doctype html><html lang="da">/);
    for (const text of [t.title, t.serverError, t.whatNow]) {
      assert.ok(plain.includes(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')), text);
    }
    assert.match(plain, /<code>req-1<\/code>/);
    // The styled page carries the same words.
    assert.ok(renderErrorPage('da', 'serverError', 'req-1').includes('req-1'));
  });

  it('escapes what it writes', () => {
    assert.match(plainErrorPage('en', 'notFound', '<script>"x"</script>'), /<code>&lt;script&gt;&quot;x&quot;&lt;\/script&gt;<\/code>/);
  });
});

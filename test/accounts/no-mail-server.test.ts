import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DIALECTS } from '../helpers/database.js';
import { FlowBrowser } from '../flow/flow-client.js';
import { createFlowTestServer, type FlowTestServer } from '../flow/flow-server.js';

for (const dialect of DIALECTS) {
  describe(`no mail server and the sandbox off: no mailbox, and the sign-in says the mail could not be sent [${dialect}]`, () => {
    let server: FlowTestServer;
    beforeEach(async () => {
      server = await createFlowTestServer(dialect, { FERRY_SANDBOX: 'false' });
    });
    afterEach(async () => {
      await server.close();
    });

    it('serves no sandbox mailbox, keeps no mail, and tells the user', async () => {
      const browser = new FlowBrowser(server.app);
      assert.equal((await browser.get('/sandbox/mailbox')).statusCode, 404);
      await browser.open('/account/sign-in');
      const page = await browser.submit('/account/sign-in', '/account/sign-in', { intent: 'send', email: 'nobody@example.org' });
      assert.equal(page.statusCode, 503);
      assert.match(page.body, /We could not send the email right now. Try again in a little while./);
      assert.equal((await server.services.database.db.selectFrom('sandbox_mail').selectAll().execute()).length, 0);
      assert.match(server.logs.join(''), /FERRY_SMTP_URL is not set and the sandbox is off/);
      assert.match(server.logs.join(''), /"mailError":"ENOMAILSERVER"/);
      assert.doesNotMatch(server.logs.join(''), /nobody@example\.org/);
    });
  });
}

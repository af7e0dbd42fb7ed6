import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { STALE_CLAIM_MS } from '../../src/flow/flow-store.js';
import { DIALECTS } from '../helpers/database.js';
import type { TestClient } from '../helpers/server.js';
import { csrfOf, isRedirect, location, startFlow, type FlowBrowser } from './flow-client.js';
import { createFlowTestClient, createFlowTestServer, type FlowTestServer } from './flow-server.js';

/**
 * A Ferry process killed while one of its requests held a flow step (at the bank, `login:busy`)
 * leaves the claim behind until it goes stale (bench/faults, issue 8). Meanwhile the user's reload
 * or second post must get a page that says to come back in a moment, not the step's form again as
 * if nothing were under way (which only loops back to the same form); once the claim is stale the
 * flow goes on.
 */
for (const dialect of DIALECTS) {
  describe(`hosted flow: a step claimed by a request that died [${dialect}]`, () => {
    let server: FlowTestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createFlowTestServer(dialect);
      client = await createFlowTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    /** At the login step, its form's CSRF token in hand; then the claim of a request that died at the bank. */
    async function atLoginWithDeadClaim(): Promise<{ browser: FlowBrowser; csrf: string; claimedAt: number }> {
      const { browser } = await startFlow(server, client);
      await browser.submit(browser.path('consent'), browser.path('consent'));
      const login = await browser.submit(browser.path('bank'), browser.path('bank'), { providerId: 'SandboxPasswordBank' });
      assert.equal(login.statusCode, 200);
      assert.match(login.body, /name="password"/);
      const claimedAt = server.clock.now();
      await server.services.database.db.updateTable('flow_sessions').set({ step: 'login:busy', updated_at: claimedAt }).where('id', '=', browser.flowId).execute();
      return { browser, csrf: csrfOf(login.body), claimedAt };
    }

    /** Sends a request and moves the clock on while it waits for the claim (the wait is 15 s). */
    async function whileTimePasses(request: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
      let answered = false;
      const tracked = request.finally(() => (answered = true));
      for (let i = 0; i < 200 && !answered; i++) {
        server.clock.advance(500);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return tracked;
    }

    const assertComeBackPage = (response: LightMyRequestResponse) => {
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '5');
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /briefly unavailable\. Please try again in a moment\./);
      assert.doesNotMatch(response.body, /name="password"/);
    };

    it('answers a reload of the step with a try-again page, not the form, while the claim holds', async () => {
      const { browser, claimedAt } = await atLoginWithDeadClaim();
      const reload = await whileTimePasses(browser.get(browser.path('login')));
      assertComeBackPage(reload);
      assert.ok(server.clock.now() - claimedAt < STALE_CLAIM_MS, 'answered before the claim went stale');
    });

    it('answers the form posted again with the try-again page, and lets the flow go on once the claim is stale', async () => {
      const { browser, csrf, claimedAt } = await atLoginWithDeadClaim();
      const again = await whileTimePasses(browser.post(browser.path('login'), { _csrf: csrf, username: 'user', password: 'pw' }));
      assertComeBackPage(again);

      server.clock.set(claimedAt + STALE_CLAIM_MS + 1);
      const page = await browser.get(browser.path('login'));
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /name="password"/);
      const posted = await browser.post(browser.path('login'), { _csrf: csrfOf(page.body), username: 'user', password: 'pw' });
      assert.ok(isRedirect(posted));
      assert.equal(location(posted), browser.path('accounts'));
    });
  });
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tokenExamples } from '../../src/portal/quickstart.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, issueCode, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

for (const dialect of DIALECTS) {
  describe(`the quick start's examples [${dialect}]`, () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await createTestServer(dialect);
    });
    afterEach(async () => {
      await server.close();
    });

    it('trade a real code for tokens as pasted (the fetch example, run by Node with the secret in FERRY_CLIENT_SECRET)', async () => {
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      const baseUrl = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
      const client = await createTestClient(server);
      const { code } = await issueCode(server, client);
      const example = tokenExamples({ publicUrl: baseUrl, clientId: client.clientId, redirectUri: client.redirectUri, code }).find((e) => e.id === 'ts-fetch')!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-quickstart-'));
      try {
        fs.writeFileSync(path.join(dir, 'token.mjs'), `${example.code}\nconsole.log(JSON.stringify(tokens));\n`);
        const { stdout } = await run(process.execPath, [path.join(dir, 'token.mjs')], { env: { ...process.env, FERRY_CLIENT_SECRET: client.clientSecret } });
        const tokens = JSON.parse(stdout) as Record<string, unknown>;
        assert.equal(tokens.token_type, 'bearer');
        assert.equal(typeof tokens.access_token, 'string');
        assert.equal(tokens.redirect_uri, client.redirectUri);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('the quick start’s examples', () => {
  it('fill in the app’s client id everywhere and keep the secret a placeholder', () => {
    const examples = tokenExamples({ publicUrl: 'https://ferry.example.com', clientId: 'budget-buddy-x1', redirectUri: 'https://budget.example.com/cb' });
    assert.deepEqual(examples.map((e) => e.language), ['curl', 'TypeScript (@ferry/client)', 'TypeScript (fetch)', 'Python', 'C#', 'Java']);
    for (const e of examples) {
      assert.match(e.code, /budget-buddy-x1/, e.language);
      assert.match(e.code, /FERRY_CLIENT_SECRET/, e.language);
      assert.match(e.code, /https:\/\/ferry\.example\.com\/v1\/oauth\/token|baseUrl: "https:\/\/ferry\.example\.com"/, e.language);
    }
    assert.match(examples.find((e) => e.id === 'csharp')!.code, /Encoding\.GetEncoding\("iso-8859-1"\)/, 'the seed’s C#, ISO-8859-1');
    assert.match(examples.find((e) => e.id === 'java')!.code, /ISO_8859_1/);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { buildServer } from '../../src/server.js';
import { DIALECTS, TEST_POSTGRES_URL } from '../helpers/database.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

if (DIALECTS.includes('postgres')) {
  describe('PostgreSQL goes away and comes back (issue #8)', () => {
    it('answers 503 meanwhile, /readyz fails, and recovers without a restart', async () => {
      const target = new URL(TEST_POSTGRES_URL);
      const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      const port = await proxy.start();
      const url = new URL(TEST_POSTGRES_URL);
      url.port = String(port);
      const schema = `ferry_test_${randomBytes(6).toString('hex')}`;
      const config = { ...loadConfig({ LOG_LEVEL: 'silent', FERRY_DEMO: 'false', DATABASE_URL: url.toString() }) };
      const database = await openDatabase(config.database, { schema });
      await migrateOrThrow(database);
      const { app } = await buildServer({ config, database, clock: new ManualClock() });
      try {
        assert.equal((await app.inject('/readyz')).statusCode, 200);
        const token = () => app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { authorization: `Basic ${Buffer.from('someone:secret').toString('base64')}`, 'content-type': 'application/json' }, payload: '{}' });
        assert.equal((await token()).statusCode, 401);

        await proxy.stop();
        const down = await token();
        assert.equal(down.statusCode, 503, down.body);
        assert.equal(down.json().error, 'temporarily_unavailable');
        assert.equal(down.headers['retry-after'], '5');
        assert.equal((await app.inject('/readyz')).statusCode, 503);
        const page = await app.inject({ method: 'GET', url: '/v1/oauth/connect?client_id=x&redirect_uri=y', headers: { 'accept-language': 'da' } });
        assert.equal(page.statusCode, 503);
        assert.match(page.body, /midlertidigt|kortvarigt/);

        await proxy.start(port);
        let ready = 0;
        for (let i = 0; i < 50 && ready !== 200; i++) {
          ready = (await app.inject('/readyz')).statusCode;
          if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(ready, 200, 'ready again');
        assert.equal((await token()).statusCode, 401, 'answers as before');
      } finally {
        await app.close();
        await database.close().catch(() => {});
        await proxy.stop();
        const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    });
  });
}

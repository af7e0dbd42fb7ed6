import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { buildServer } from '../../src/server.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, PUBLIC_URL } from '../helpers/server.js';

/** Rate limits hold across processes: two Ferry instances over one database (or one Redis) share the count. */
async function twoInstances(dialect: 'sqlite' | 'postgres', env: Record<string, string>) {
  const first = await createTestServer(dialect, env);
  const database = await openDatabase(first.testDb.config, { schema: first.testDb.schema });
  const config = { ...loadConfig({ PUBLIC_URL, LOG_LEVEL: 'silent', FERRY_DEMO: 'false', ...env }), database: first.testDb.config };
  const { app: second } = await buildServer({ config, database, clock: new ManualClock() });
  return {
    first,
    second,
    async close() {
      await second.close();
      await database.close();
      await first.close();
    },
  };
}

const connectOf = (clientId: string, redirectUri: string) => `/v1/oauth/connect?client_id=${clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&response_type=code&scope=accounts`;

for (const dialect of DIALECTS) {
  describe(`rate limits shared through the database [${dialect}]`, () => {
    it('counts connect requests of one IP across two processes', async () => {
      const { first, second, close } = await twoInstances(dialect, { FERRY_RATE_LIMIT_CONNECT_PER_IP: '3' });
      try {
        const client = await createTestClient(first);
        const url = connectOf(client.clientId, client.redirectUri);
        const statuses = [];
        for (const app of [first.app, second, first.app, second]) statuses.push((await app.inject({ method: 'GET', url, remoteAddress: '198.51.100.7' })).statusCode);
        assert.deepEqual(statuses, [301, 301, 301, 429]);
        assert.equal((await second.inject({ method: 'GET', url, remoteAddress: '198.51.100.8' })).statusCode, 301, 'another IP has its own count');
      } finally {
        await close();
      }
    });

    it('limits token requests per client, with an RFC 6749 body', async () => {
      const server = await createTestServer(dialect, { FERRY_RATE_LIMIT_TOKEN_PER_CLIENT: '2', FERRY_RATE_LIMIT_TOKEN_PER_IP: '100' });
      try {
        const client = await createTestClient(server);
        const send = (ip: string) =>
          server.app.inject({ method: 'POST', url: '/v1/oauth/token', remoteAddress: ip, headers: { authorization: client.basic, 'content-type': 'application/json' }, payload: '{"grant_type":"refresh_token","refresh_token":"x"}' });
        assert.equal((await send('192.0.2.1')).statusCode, 400);
        assert.equal((await send('192.0.2.2')).statusCode, 400);
        const limited = await send('192.0.2.3');
        assert.equal(limited.statusCode, 429, 'the third request of the client is limited whatever its IP');
        assert.ok(limited.json().error);
        assert.ok(limited.headers['retry-after']);
      } finally {
        await server.close();
      }
    });
  });
}

describe('rate limits shared through Redis (REDIS_URL)', () => {
  it('counts connect requests of one IP across two processes', async () => {
    const ip = `203.0.113.${randomBytes(1)[0]! % 250}`;
    const env = { FERRY_RATE_LIMIT_CONNECT_PER_IP: '2', REDIS_URL: process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
    const { first, second, close } = await twoInstances('sqlite', env);
    try {
      const client = await createTestClient(first);
      // A fresh client id makes the URL unique, but the limit is per IP: use a random one per run.
      const url = connectOf(client.clientId, client.redirectUri);
      const statuses = [];
      for (const app of [first.app, second, first.app]) statuses.push((await app.inject({ method: 'GET', url, remoteAddress: ip })).statusCode);
      assert.deepEqual(statuses, [301, 301, 429]);
    } finally {
      await close();
    }
  });
});

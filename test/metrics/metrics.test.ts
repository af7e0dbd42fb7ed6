import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { createTestClient, createTestServer } from '../helpers/server.js';

describe('Prometheus /metrics (issue #8)', () => {
  it('counts requests by route, token grants, flows and syncs, and reads queue depth and deletion lag from the database', async () => {
    const server = await createTestServer('sqlite');
    try {
      const client = await createTestClient(server);
      await server.app.inject({ method: 'GET', url: `/v1/oauth/connect?client_id=${client.clientId}&redirect_uri=${encodeURIComponent(client.redirectUri)}&response_type=code&scope=accounts` });
      const { accessToken } = await connectConsent(server, client, { username: 'metrics' });
      await runJobs(server);
      await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${accessToken}` } });
      await server.app.inject({ method: 'POST', url: '/v1/oauth/token', headers: { authorization: client.basic, 'content-type': 'application/json' }, payload: '{"grant_type":"authorization_code","code":"nope","redirect_uri":"x"}' });

      const res = await server.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /text\/plain/);
      const body = res.body;
      assert.match(body, /ferry_http_request_duration_seconds_count\{method="GET",route="\/v1\/accounts",status="200"\} 1/);
      assert.match(body, /ferry_token_grants_total\{grant_type="authorization_code",outcome="issued"\} 1/);
      assert.match(body, /ferry_token_grants_total\{grant_type="authorization_code",outcome="refused"\} 1/);
      assert.match(body, /ferry_flows_total\{event="started",step="consent"\} 1/);
      assert.match(body, /ferry_flows_total\{event="completed",step="done"\} 1/);
      assert.match(body, /ferry_sync_duration_seconds_count\{outcome="done"\} 1/);
      assert.match(body, /ferry_deletion_lag_seconds 0/);
      assert.match(body, /ferry_jobs_queued/);
    } finally {
      await server.close();
    }
  });

  it('is not for the public: a token when configured, loopback otherwise', async () => {
    const server = await createTestServer('sqlite', { FERRY_METRICS_TOKEN: 'a-long-metrics-token-123' });
    try {
      assert.equal((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      assert.equal((await server.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-wrong-token' } })).statusCode, 404);
      assert.equal((await server.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer a-long-metrics-token-123' } })).statusCode, 200);
      const remote = await server.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
      assert.equal(remote.statusCode, 404);
    } finally {
      await server.close();
    }
    const open = await createTestServer('sqlite');
    try {
      assert.equal((await open.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' })).statusCode, 404);
      assert.equal((await open.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
    } finally {
      await open.close();
    }
  });
});

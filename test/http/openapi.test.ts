import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPERATION_IDS } from '../../src/http/openapi.js';
import { createTestServer, type TestServer } from '../helpers/server.js';

interface Operation {
  operationId?: string;
  responses: Record<string, { $ref?: string }>;
}

/** The OpenAPI document a client generator reads (/docs/json): every call named, every shared answer told. */
describe('OpenAPI document', () => {
  let server: TestServer;
  let operations: Array<[string, Operation]>;
  let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown>; responses: Record<string, unknown> } };

  before(async () => {
    server = await createTestServer('sqlite');
    doc = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json();
    operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]));
  });
  after(() => server.close());

  it('gives every operation a unique operationId from the table', () => {
    assert.ok(operations.length >= 20, `only ${operations.length} operations documented`);
    const missing = operations.filter(([, op]) => op.operationId === undefined).map(([key]) => key);
    assert.deepEqual(missing, [], 'operations without an operationId (add them to OPERATION_IDS in src/http/openapi.ts)');
    const ids = operations.map(([, op]) => op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const stale = Object.keys(OPERATION_IDS).filter((key) => !operations.some(([k]) => k === key));
    assert.deepEqual(stale, [], 'OPERATION_IDS names operations that no longer exist');
  });

  it('documents 503 (database unreachable) on every operation and 429 on the rate-limited ones', () => {
    for (const [key, op] of operations) assert.equal(op.responses['503']?.$ref, '#/components/responses/ServiceUnavailable', key);
    for (const key of ['POST /v1/oauth/token', 'POST /v1/oauth/revoke', 'GET /v1/oauth/connect']) {
      const op = operations.find(([k]) => k === key)?.[1];
      assert.equal(op?.responses['429']?.$ref, '#/components/responses/TooManyRequests', key);
    }
    assert.equal(operations.find(([k]) => k === 'GET /v1/accounts')?.[1].responses['429'], undefined, 'the data API has no rate limit to document');
    assert.ok(doc.components.schemas.OAuthError);
    assert.ok(doc.components.responses.TooManyRequests);
  });

  it('answers a 429 as documented: slow_down with Retry-After', async () => {
    const limited = await createTestServer('sqlite', { FERRY_RATE_LIMITS: 'true', FERRY_RATE_LIMIT_TOKEN_PER_IP: '1' });
    try {
      const post = () => limited.app.inject({ method: 'POST', url: '/v1/oauth/token', payload: { grant_type: 'client_credentials' } });
      await post();
      const second = await post();
      assert.equal(second.statusCode, 429);
      assert.equal(second.json().error, 'slow_down');
      assert.match(String(second.headers['retry-after']), /^\d+$/);
    } finally {
      await limited.close();
    }
  });
});

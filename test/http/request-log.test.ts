import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { requestLoggerFactory } from '../../src/http/request-log.js';
import { buildServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

interface LogLine {
  msg: string;
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  responseTime?: number;
  err?: { type: string; error?: string; detail: string };
}

/** DESIGN: one JSON line per request, with its id; refusals say why; no secrets. */
describe('request log: one line per request', () => {
  let testDb: TestDatabase;
  let app: FastifyInstance;
  const lines: LogLine[] = [];

  before(async () => {
    testDb = await createTestDatabase('sqlite');
    const config = { ...loadConfig({ PUBLIC_URL: 'https://ferry.test', LOG_LEVEL: 'info', FERRY_DEMO: 'false' }), database: testDb.config };
    const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk)) as LogLine), done()) }));
    ({ app } = await buildServer({ config, database: testDb.database, clock: new ManualClock(), logger }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await testDb.drop();
  });

  const linesOf = (id: string) => lines.filter((l) => l.reqId === id);

  it('writes exactly one line for an answered request, with method, path, status and time', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'request-id': 'x' } });
    assert.equal(response.statusCode, 200);
    const requestLines = lines.filter((l) => l.req?.url === '/healthz');
    assert.equal(requestLines.length, 1, JSON.stringify(requestLines));
    const [line] = requestLines;
    assert.equal(line!.msg, 'request completed');
    assert.equal(line!.res?.statusCode, 200);
    assert.equal(typeof line!.responseTime, 'number');
    assert.equal(linesOf(line!.reqId!).length, 1);
  });

  it('puts a refusal’s error and detail in that one line, and never the secret', async () => {
    const secret = 'not-the-secret-0123456789';
    const response = await app.inject({
      method: 'POST',
      url: '/v1/oauth/token',
      headers: { authorization: `Basic ${Buffer.from(`unknown-client:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
      payload: { grant_type: 'authorization_code', code: 'some-code-value', redirect_uri: 'https://app.example.com/cb' },
    });
    assert.equal(response.statusCode, 401);
    const refused = lines.filter((l) => l.req?.url === '/v1/oauth/token');
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.equal(refused[0]!.res?.statusCode, 401);
    assert.equal(refused[0]!.err?.error, 'invalid_client');
    const text = JSON.stringify(lines);
    for (const value of [secret, 'some-code-value']) assert.ok(!text.includes(value), `the log holds ${value}`);
  });

  it('logs a refused connect request (redirected back with an error) once, with its OAuth error', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/oauth/connect?client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code&scope=accounts' });
    assert.ok(response.statusCode >= 400, `status ${response.statusCode}`);
    const connect = lines.filter((l) => l.req?.url.startsWith('/v1/oauth/connect'));
    assert.equal(connect.length, 1, JSON.stringify(connect));
    assert.equal(connect[0]!.err?.error, 'invalid_client');
    assert.match(connect[0]!.req!.url, /client_id=nobody/, 'harmless parameters stay readable');
    assert.match(connect[0]!.req!.url, /redirect_uri=~/, 'other query values are masked');
  });
});

/** request.log is made only when a request logs through it; what it writes is a pino child's line. */
describe('request.log (requestLoggerFactory)', () => {
  const collect = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
    return { lines, logger };
  };

  it('writes its lines with the request id, as the child it stands for', () => {
    const { lines, logger } = collect();
    const log = requestLoggerFactory(logger, { reqId: 'req-1' }, {});
    log.info({ consentId: 'c-1' }, 'sync done');
    log.error('plain message');
    log.debug('below the level');
    log.child({ part: 'webhooks' }).warn({ attempt: 2 }, 'retrying');
    assert.deepEqual(
      lines.map(({ reqId, msg, consentId, part, attempt, level }) => ({ reqId, msg, consentId, part, attempt, level })),
      [
        { reqId: 'req-1', msg: 'sync done', consentId: 'c-1', part: undefined, attempt: undefined, level: 30 },
        { reqId: 'req-1', msg: 'plain message', consentId: undefined, part: undefined, attempt: undefined, level: 50 },
        { reqId: 'req-1', msg: 'retrying', consentId: undefined, part: 'webhooks', attempt: 2, level: 40 },
      ],
    );
    assert.equal(log.level, 'info');
  });

  it('keeps the redaction list of the logger it comes from', () => {
    const { lines, logger } = collect();
    requestLoggerFactory(logger, { reqId: 'req-2' }, {}).info({ body: { client_secret: 's3cret', password: 'hunter2' } }, 'body');
    assert.ok(!JSON.stringify(lines).includes('s3cret') && !JSON.stringify(lines).includes('hunter2'), JSON.stringify(lines));
  });

  it('honours a route’s own log level', () => {
    const { lines, logger } = collect();
    const log = requestLoggerFactory(logger, { reqId: 'req-3' }, { level: 'warn' });
    log.info('quiet');
    log.warn('heard');
    assert.deepEqual(lines.map((l) => l.msg), ['heard']);
  });
});

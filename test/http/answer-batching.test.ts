import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { installAnswerBatching } from '../../src/http/answer-batching.js';

/**
 * src/http/answer-batching.ts: the answers finished in one turn of the event loop go out together
 * at its end, each exactly as it would have gone out alone.
 */
describe('answers written together at the end of the turn', () => {
  let app: FastifyInstance;
  let base: string;
  const events: string[] = [];

  before(async () => {
    app = Fastify();
    installAnswerBatching(app);
    // The moment an answer is handed to Node to write.
    app.addHook('onRequest', (request, reply, done) => {
      const end = reply.raw.end.bind(reply.raw) as (...args: unknown[]) => unknown;
      reply.raw.end = ((...args: unknown[]) => (events.push(`written ${request.url}`), end(...args))) as typeof reply.raw.end;
      done();
    });
    app.get('/a', async () => {
      events.push('handled /a');
      setImmediate(() => events.push('turn over'));
      return { route: 'a' };
    });
    app.get('/b', async () => {
      events.push('handled /b');
      return { route: 'b' };
    });
    // Not ASCII, and made by concatenation: Content-Length must count its UTF-8 bytes.
    app.get('/text', async (_request, reply) => reply.type('application/json; charset=utf-8').send(`{"name":"Lønkonto","card":"${'•'.repeat(4)} 1234"}`));
    await app.register(async (plugin) => {
      // A plugin's own onSend hook still sees the payload as its route made it, a string.
      plugin.addHook('onSend', (_request, reply, payload, done) => {
        reply.header('x-payload-type', typeof payload);
        done(null, typeof payload === 'string' ? payload.toUpperCase() : payload);
      });
      plugin.get('/plugin', async (_request, reply) => reply.type('text/plain').send('from the plugin'));
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => app.close());

  it('finishes every request of a turn before writing the first answer', async () => {
    events.length = 0;
    const [a, b] = await Promise.all([app.inject('/a'), app.inject('/b')]);
    assert.deepEqual([a.json(), b.json()], [{ route: 'a' }, { route: 'b' }]);
    // Both handled, then the turn ends (the first setImmediate queued in it), then both written.
    assert.deepEqual(events.slice(0, 2).sort(), ['handled /a', 'handled /b']);
    assert.equal(events[2], 'turn over');
    assert.deepEqual(events.slice(3).sort(), ['written /a', 'written /b']);
  });

  it('sends the same bytes, with their Content-Length, over a real socket', async () => {
    const response = await fetch(`${base}/text`);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200);
    assert.equal(bytes.toString('utf8'), '{"name":"Lønkonto","card":"•••• 1234"}');
    assert.equal(Number(response.headers.get('content-length')), bytes.length);
    assert.ok(bytes.length > bytes.toString('utf8').length, 'the body has multi-byte characters');
  });

  it('runs after the plugins’ own onSend hooks', async () => {
    const response = await fetch(`${base}/plugin`);
    assert.equal(await response.text(), 'FROM THE PLUGIN');
    assert.equal(response.headers.get('x-payload-type'), 'string');
  });

  it('answers many concurrent requests, each with its own answer', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${base}/${i % 2 === 0 ? 'a' : 'b'}`).then((r) => r.json())));
    answers.forEach((answer, i) => assert.deepEqual(answer, { route: i % 2 === 0 ? 'a' : 'b' }));
  });
});

/**
 * The ceilings of the data API benchmark, answering each benchmarked path with the bytes Ferry
 * answered it with, from memory:
 *   - `bare`: a bare node:http server; nothing an HTTP server on this machine does per request
 *     can be cheaper;
 *   - `fastify`: Fastify 5 with defaults and no logger, one route per path; what the framework
 *     alone costs.
 * Run as a child of run.ts (IPC: { port, kind, bodies: { [path]: body } } in, { ready } out).
 */
import http from 'node:http';
import Fastify from 'fastify';

const { port, kind, bodies } = await new Promise<{ port: number; kind: 'bare' | 'fastify'; bodies: Record<string, string> }>((resolve) =>
  process.once('message', resolve as never),
);
const answers = new Map(Object.entries(bodies).map(([path, body]) => [path, Buffer.from(body)]));
const CONTENT_TYPE = 'application/json; charset=utf-8';

let close: () => Promise<void>;
if (kind === 'bare') {
  const server = http.createServer((request, response) => {
    const body = answers.get(request.url ?? '');
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': body.length });
    response.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
} else {
  const app = Fastify();
  for (const [path, body] of answers) {
    const url = new URL(path, 'http://x');
    const expectedQuery = url.search;
    app.get(url.pathname, async (request, reply) => {
      if (request.url.slice(request.url.indexOf('?') === -1 ? request.url.length : request.url.indexOf('?')) !== expectedQuery) return reply.code(404).send();
      return reply.type(CONTENT_TYPE).send(body);
    });
  }
  await app.listen({ port, host: '127.0.0.1' });
  close = () => app.close();
}
process.send!({ ready: true });
process.on('SIGTERM', () => void close().then(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));

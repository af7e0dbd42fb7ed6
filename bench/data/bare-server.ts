/**
 * The ceiling of the data API benchmark: a bare node:http server that answers each benchmarked
 * path with the bytes Ferry answered it with, from memory. Nothing an HTTP server on this machine
 * does per request can be cheaper. Run as a child of run.ts
 * (IPC: { port, bodies: { [path]: body } } in, { ready } out).
 */
import http from 'node:http';

const { port, bodies } = await new Promise<{ port: number; bodies: Record<string, string> }>((resolve) => process.once('message', resolve as never));
const answers = new Map(Object.entries(bodies).map(([path, body]) => [path, Buffer.from(body)]));

const server = http.createServer((request, response) => {
  const body = answers.get(request.url ?? '');
  if (body === undefined) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.send!({ ready: true }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));

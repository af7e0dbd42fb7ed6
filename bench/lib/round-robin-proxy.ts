/**
 * A tiny HTTP load balancer on loopback, run in its own process (forked with IPC by bench/lib/
 * ferry-cluster.ts): every request goes to the next backend in turn (per request, not per
 * connection, so one user's requests land on different Ferry processes), over keep-alive
 * connections, with `X-Forwarded-For` set (Ferry runs with FERRY_TRUST_PROXY=1).
 *
 * What a real one does when a backend dies, and no more:
 * - a refused connection (the process is down or starting) sends the request to the next backend
 *   (nothing reached the dead one, so this is safe for a POST too) and skips the refusing one for
 *   a second;
 * - a request that was in flight when its backend died gets `502 Bad Gateway` (an HTML page, marked
 *   with `X-Bench-Proxy-Error: 1` so the load test can tell it from Ferry's own answers), as nginx
 *   answers; the user may reload.
 *
 *   node --import tsx bench/lib/round-robin-proxy.ts PORT BACKEND_PORT [BACKEND_PORT …]
 *
 * Sends `{ port }` over IPC when it listens; answers a `stats` message with its counters.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const [portArg, ...backendArgs] = process.argv.slice(2);
const backends = backendArgs.map((p) => ({ port: Number(p), downUntil: 0, requests: 0, agent: new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 }) }));
if (backends.length === 0 || backends.some((b) => !Number.isInteger(b.port))) throw new Error('usage: round-robin-proxy.ts PORT BACKEND_PORT [BACKEND_PORT …]');

const counters = { requests: 0, refusedRetried: 0, badGateway: 0, noBackend: 0 };
let next = 0;

/** Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not passed on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
function endToEnd(headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

const BAD_GATEWAY_PAGE = '<!doctype html><html lang="en"><title>502 Bad Gateway</title><h1>502 Bad Gateway</h1><p>The server did not answer. Reload the page.</p></html>';

function pick(exclude: Set<number>): (typeof backends)[number] | undefined {
  const now = Date.now();
  for (let i = 0; i < backends.length; i++) {
    const backend = backends[(next + i) % backends.length]!;
    if (exclude.has(backend.port) || backend.downUntil > now) continue;
    next = (next + i + 1) % backends.length;
    return backend;
  }
  // Every backend is marked down: try one that has not refused this request yet anyway.
  return backends.find((b) => !exclude.has(b.port));
}

function badGateway(res: http.ServerResponse, status = 502): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'x-bench-proxy-error': '1', 'content-length': Buffer.byteLength(BAD_GATEWAY_PAGE) });
  res.end(BAD_GATEWAY_PAGE);
}

const server = http.createServer((req, res) => {
  counters.requests++;
  // The body is read whole before forwarding (small forms and JSON): a refused connection can then be retried elsewhere.
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...endToEnd(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1' };
    const tried = new Set<number>();
    const attempt = () => {
      const backend = pick(tried);
      if (backend === undefined) {
        counters.noBackend++;
        badGateway(res, 503);
        return;
      }
      tried.add(backend.port);
      backend.requests++;
      const upstream = http.request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers, agent: backend.agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') {
          backend.downUntil = Date.now() + 1000;
          counters.refusedRetried++;
          attempt();
          return;
        }
        counters.badGateway++;
        badGateway(res);
      });
      upstream.end(body);
    };
    attempt();
  });
  req.on('error', () => res.destroy());
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(Number(portArg ?? 0), '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message === 'stats') process.send?.({ stats: { ...counters, perBackend: Object.fromEntries(backends.map((b) => [b.port, b.requests])) } });
});
process.on('disconnect', () => process.exit(0));

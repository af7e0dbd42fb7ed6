/**
 * The benchmark's webhook receiver, in its own process (forked by run.ts): answers 200 to every
 * POST after reading the body, as an app that queues the event and returns would; counts them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', () => process.send!({ count }));
process.on('disconnect', () => process.exit(0));

/**
 * The simulated app's webhook endpoint, in its own process (forked by bench/lib/ferry-cluster.ts):
 * answers 200 to every POST after reading it, and keeps each event once by its `X-Aiia-EventId`
 * (a retried delivery after a crash may bring an event twice; the app dedupes, as Aiia asks).
 *
 * IPC: sends `{ port }` when it listens; answers `summary` with `{ received, unique, duplicates,
 * byEvent }` and `ids` with `{ ids: [eventId, …] }`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const seen = new Map<string, string>();
let received = 0;
let withoutId = 0;
const byEvent: Record<string, number> = {};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received++;
    const id = req.headers['x-aiia-eventid'];
    if (typeof id !== 'string') withoutId++;
    else if (!seen.has(id)) {
      const event = String(req.headers['x-aiia-event'] ?? 'unknown');
      seen.set(id, event);
      byEvent[event] = (byEvent[event] ?? 0) + 1;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (message) => {
  if (message === 'summary') process.send!({ summary: { received, unique: seen.size, duplicates: received - seen.size - withoutId, withoutId, byEvent } });
  else if (message === 'ids') process.send!({ ids: [...seen.keys()] });
});
process.on('disconnect', () => process.exit(0));

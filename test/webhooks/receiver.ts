import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it: headers (lowercase) and the raw body bytes. */
export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  /** Header names as sent on the wire, in order. */
  rawHeaderNames: string[];
  rawBody: Buffer;
  receivedAt: number;
}

/** How the receiver answers the n-th request (from 0): a status, or `hang` (never answers). */
export type Answer = number | 'hang' | { status: number; headers?: Record<string, string>; delayMs?: number };

export interface TestReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Event ids in arrival order (X-Aiia-EventId). */
  eventIds(): string[];
  answer: (n: number, request: ReceivedWebhook) => Answer;
  close(): Promise<void>;
}

/** A real local HTTP receiver on 127.0.0.1 that records every request and answers as told (200 by default). */
export async function startReceiver(answer: TestReceiver['answer'] = () => 200): Promise<TestReceiver> {
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver: TestReceiver = {
    url: '',
    port: 0,
    received,
    answer,
    eventIds: () => received.map((r) => String(r.headers['x-aiia-eventid'])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedWebhook = { headers: req.headers, rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0), rawBody: Buffer.concat(chunks), receivedAt: Date.now() };
      const n = received.length;
      received.push(request);
      const a = receiver.answer(n, request);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      const { status, headers = {}, delayMs = 0 } = typeof a === 'number' ? { status: a } : a;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(status, headers).end(status === 200 ? 'ok' : 'no');
      };
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/aiia`;
  return receiver;
}

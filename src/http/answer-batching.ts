import type { FastifyInstance, FastifyRequest, onSendHookHandler } from 'fastify';

/**
 * The answers finished in one turn of the event loop are written together, at its end
 * (`setImmediate`), instead of each as soon as it is ready.
 *
 * Why: each write to a client's socket wakes the client if it sleeps; on a virtual machine that
 * wake-up is an interrupt to another CPU, and it cost a tenth of a small request's CPU here
 * (bench/RESULTS.md, data API: `sock_def_readable` and the paravirtual interrupt enable under
 * `writev`). A client, or a load balancer, with answers coming one by one is woken for each; with
 * the answers of a turn written back to back it is woken once and finds the rest waiting. The
 * cost is latency within the turn: an answer ready early waits for the turn's last request
 * (at most one turn; when the server is idle, the turn is the one request).
 *
 * The hook is the last `onSend` of every route (a route-level hook, added by `onRoute`: Fastify
 * runs those after the application's and plugins' own), so every other hook has seen the payload
 * as the route made it. A string payload is held as its UTF-8 bytes: a string built by
 * concatenation is a tree of pieces in V8's young generation, and holding many across a
 * scavenge had the collector copy every piece (a 50-transaction page's CPU went up by half);
 * the bytes live outside the JavaScript heap, and Fastify's `Content-Length` is their length.
 */
export function installAnswerBatching(app: FastifyInstance): void {
  let pending: Array<{ request: FastifyRequest; payload: unknown; done: Parameters<onSendHookHandler>[3] }> = [];
  const writeAll = () => {
    const answers = pending;
    pending = [];
    for (const answer of answers) {
      try {
        answer.done(null, answer.payload);
      } catch (error) {
        // One failed write must not keep the turn's other answers from theirs.
        answer.request.log.error({ err: error }, 'writing a batched answer failed');
      }
    }
  };
  const hold: onSendHookHandler = (request, _reply, payload, done) => {
    if (pending.length === 0) setImmediate(writeAll);
    pending.push({ request, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, done });
  };
  app.addHook('onRoute', (route) => {
    const existing = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...existing, hold] as typeof route.onSend;
  });
}

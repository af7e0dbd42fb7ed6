import http from 'node:http';
import https from 'node:https';
import { pinnedLookup, resolveWebhookTarget, WebhookTargetRefused, type AddressPolicy, type HostResolver, type WebhookTarget } from './address-guard.js';
import { parseRetryAfter } from './retry-schedule.js';

/** One try's request: where, which headers (signature included), and the exact body bytes. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What one try came to. Only `delivered` (a 200) ends the delivery; `refused` fails it at once. */
export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number; durationMs: number; target: WebhookTarget }
  | { kind: 'status'; statusCode: number; durationMs: number; retryAfterMs: number | null; target: WebhookTarget }
  | { kind: 'timeout'; durationMs: number; error: string }
  | { kind: 'network'; durationMs: number; error: string }
  | { kind: 'refused'; durationMs: number; error: string; refusal: WebhookTargetRefused };

export type AttemptKind = AttemptOutcome['kind'];

export interface SenderOptions {
  policy: AddressPolicy;
  resolver: HostResolver;
  /** The whole try, name resolution, connection and answer, must fit in this. */
  timeoutMs: number;
  now(): number;
  /** Keep-alive pools (one per dispatcher): a busy receiver is not re-handshaken for every event. */
  agents: { http: http.Agent; https: https.Agent };
}

/** Answers are read and dropped: Ferry needs the status only, and never keeps a receiver's body. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function createAgents(maxSockets: number): SenderOptions['agents'] {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo' }),
    https: new https.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo' }),
  };
}

/**
 * Makes one try: checks and resolves the URL (the SSRF guard), POSTs to the checked address, and
 * reports. Redirects are not followed (a 3xx is a failed try): following one would let a receiver
 * point Ferry anywhere the guard did not look.
 */
export async function sendWebhook(request: WebhookRequest, options: SenderOptions): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const target = await Promise.race([
      resolveWebhookTarget(request.url, options.policy, options.resolver),
      new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new TimeoutReached()), { once: true })),
    ]);
    const answer = await post(target, request, options, controller.signal).catch((error: unknown) => {
      // A pooled keep-alive socket the receiver closed meanwhile: retry once on a fresh one
      // (Node's documented pattern; at least once allows the rare duplicate).
      if ((error as { reusedSocket?: boolean }).reusedSocket === true && !controller.signal.aborted) return post(target, request, options, controller.signal);
      throw error;
    });
    if (answer.statusCode === 200) return { kind: 'delivered', statusCode: 200, durationMs: elapsed(), target };
    return { kind: 'status', statusCode: answer.statusCode, durationMs: elapsed(), retryAfterMs: parseRetryAfter(answer.retryAfter, options.now()), target };
  } catch (error) {
    if (error instanceof WebhookTargetRefused) return { kind: 'refused', durationMs: elapsed(), error: `refused: ${error.reason}`, refusal: error };
    if (controller.signal.aborted) return { kind: 'timeout', durationMs: elapsed(), error: `no answer within ${options.timeoutMs} ms` };
    return { kind: 'network', durationMs: elapsed(), error: describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
  }
}

class TimeoutReached extends Error {}

function post(target: WebhookTarget, request: WebhookRequest, options: SenderOptions, signal: AbortSignal): Promise<{ statusCode: number; retryAfter: string | undefined }> {
  const secure = target.url.protocol === 'https:';
  const body = Buffer.from(request.body, 'utf8');
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      {
        method: 'POST',
        protocol: target.url.protocol,
        host: target.host,
        port: target.url.port === '' ? (secure ? 443 : 80) : Number(target.url.port),
        path: `${target.url.pathname}${target.url.search}`,
        headers: { ...request.headers, 'Content-Length': String(body.length) },
        agent: secure ? options.agents.https : options.agents.http,
        lookup: pinnedLookup(target),
        // The TLS name is the URL's host, never the address: the certificate must match the name.
        ...(secure && target.host !== target.address ? { servername: target.host } : {}),
        signal,
      },
      (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => {});
        res.on('close', () => resolve({ statusCode: res.statusCode ?? 0, retryAfter: firstHeader(res.headers['retry-after']) }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket && error.code === 'ECONNRESET') Object.assign(error, { reusedSocket: true });
      reject(error);
    });
    req.end(body);
  });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A short, log-safe reason (never the URL's path or query, which may carry the app's own secrets). */
function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { reason?: string };
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code === 'ECONNRESET') return 'connection reset';
  if (e?.code === 'ENOTFOUND') return 'host not found';
  if (e?.code !== undefined && /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_|SELF_SIGNED|ERR_SSL)/.test(e.code)) return `TLS error (${e.code})`;
  if (e?.code !== undefined) return `network error (${e.code})`;
  return e instanceof Error ? e.message.slice(0, 200) : 'network error';
}

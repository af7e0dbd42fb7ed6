import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Secrets, tokens, codes, passwords and personal data never reach a log (ground rule): headers
 * that carry them are redacted, and URLs are logged with their query values masked except for
 * a short list of harmless parameters.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.client_secret',
  '*.clientSecret',
  '*.code',
  '*.code_verifier',
  '*.refresh_token',
  '*.access_token',
  '*.password',
  '*.otp',
  '*.username',
  '*.email',
  '*.token',
  '*.webhookSecret',
  '*.webhook_secret',
  // Webhooks (src/webhooks/): signatures, bodies (personal data) and URLs (an app may put its own secret in the query).
  '*.signature',
  '*.headers["x-aiia-signature"]',
  '*.rawBody',
  '*.webhookBody',
  '*.webhookUrl',
  '*.webhook_url',
];

const SAFE_QUERY_PARAMS = new Set(['client_id', 'response_type', 'scope', 'flow', 'culture', 'providerId', 'pageSize', 'select_all_accounts', 'includeDeleted', 'code_challenge_method', 'error']);

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return SAFE_QUERY_PARAMS.has(name) || eq === -1 ? pair : `${name}=~`;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req(request: { id: string; method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) {
          return { id: request.id, method: request.method, url: redactUrl(request.url), remoteAddress: request.ip ?? request.socket?.remoteAddress };
        },
      },
    },
    destination,
  );
}

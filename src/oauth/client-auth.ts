import type { Kysely } from 'kysely';
import { clientSecretMatches, findAppRow } from '../apps/apps.js';
import type { Clock } from '../clock.js';
import type { AppRow, Database } from '../db/schema.js';
import { InvalidClient, InvalidRequest } from '../errors.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** How the client authenticated: a failed Basic attempt answers 401 with `WWW-Authenticate: Basic`. */
  method: 'basic' | 'body';
}

export class BasicAuthFailed extends InvalidClient {}

/**
 * Reads client credentials from the Authorization header (RFC 7617, the secret in ISO-8859-1 as
 * the seed's C# sample encodes it) or the body (RFC 6749 §2.3.1). Using both is refused (§2.3).
 */
export function readClientCredentials(authorization: string | undefined, body: Record<string, string>): ClientCredentials {
  const inBody = body.client_secret !== undefined;
  if (authorization !== undefined) {
    if (inBody) throw new InvalidRequest('Authenticate the client with the Authorization header or the body, not both (RFC 6749 §2.3).');
    const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
    if (match === null) throw new BasicAuthFailed('The Authorization header must be "Basic base64(client_id:client_secret)".');
    const decoded = Buffer.from(match[1]!, 'base64').toString('latin1');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new BasicAuthFailed('The Basic credentials must be client_id:client_secret.');
    const clientId = decoded.slice(0, colon);
    if (body.client_id !== undefined && body.client_id !== clientId && body.client_id !== safeDecode(clientId)) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header.');
    }
    return { clientId, clientSecret: decoded.slice(colon + 1), method: 'basic' };
  }
  if (body.client_id === undefined || body.client_secret === undefined) {
    throw new InvalidClient('Client authentication is required: send HTTP Basic credentials (or client_id and client_secret in the body).');
  }
  return { clientId: body.client_id, clientSecret: body.client_secret, method: 'body' };
}

/**
 * Finds and authenticates the app. Every failure is the same `invalid_client`, so ids cannot be probed.
 * `findApp` reads the row: the token endpoint passes `findAppRowCached` (its hottest read); the
 * secret is checked against the row on every call either way.
 */
export async function authenticateClient(
  db: Kysely<Database>,
  clock: Clock,
  credentials: ClientCredentials,
  findApp: (db: Kysely<Database>, id: string) => Promise<AppRow | undefined> = findAppRow,
): Promise<AppRow> {
  const failure = () =>
    credentials.method === 'basic' ? new BasicAuthFailed('Client authentication failed.') : new InvalidClient('Client authentication failed.');
  if (credentials.clientId.length > 200 || credentials.clientSecret.length > 200) throw failure();
  // RFC 6749 §2.3.1 form-encodes id and secret before Basic; Aiia's samples do not. Accept both spellings.
  let app = await findApp(db, credentials.clientId);
  if (app === undefined && credentials.method === 'basic') {
    const decodedId = safeDecode(credentials.clientId);
    if (decodedId !== null && decodedId !== credentials.clientId) app = await findApp(db, decodedId);
  }
  if (app === undefined) throw failure();
  const now = clock.now();
  if (clientSecretMatches(app, credentials.clientSecret, now)) return app;
  const decoded = credentials.method === 'basic' ? safeDecode(credentials.clientSecret) : null;
  if (decoded !== null && decoded !== credentials.clientSecret && clientSecretMatches(app, decoded, now)) return app;
  throw failure();
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

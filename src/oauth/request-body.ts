import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '../errors.js';

/** Token-endpoint bodies are small; anything larger is refused before it is parsed. */
export const TOKEN_BODY_LIMIT = 64 * 1024;

/**
 * Content-type parsers for the OAuth endpoints, registered in their plugin only.
 *
 * - `application/json` (Aiia's way): one top-level object of string values; duplicate keys refused,
 *   since two parsers could otherwise read two different requests out of one body.
 * - `application/x-www-form-urlencoded` (every OAuth library's way): UTF-8, each parameter at most
 *   once (RFC 6749 §3.2).
 */
export function registerOAuthBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: TOKEN_BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseStrictJsonObject(decodeUtf8(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: TOKEN_BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseForm(decodeUtf8(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // Any other media type: a clear invalid_request instead of Fastify's 415.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: TOKEN_BODY_LIMIT }, (req, _body, done) => {
    done(new InvalidRequest(`Unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json or application/x-www-form-urlencoded.`), undefined);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new InvalidRequest('The request body is not valid UTF-8.');
  }
}

/** A JSON string literal, as the JSON grammar defines it. */
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/g;

export function parseStrictJsonObject(text: string): Record<string, string> {
  if (text.trim() === '') throw new InvalidRequest('The request body is empty: send a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new InvalidRequest(`The request body is malformed JSON${reason}.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequest('The request body must be a JSON object.');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') throw new InvalidRequest(`The JSON field ${JSON.stringify(key)} must be a string.`);
  }
  // With only string values, the string literals of the text alternate key, value, key, value…,
  // so the keys are every other literal: count them to find duplicates JSON.parse silently merged.
  const literals = text.match(JSON_STRING) ?? [];
  const keys = literals.filter((_, i) => i % 2 === 0).map((k) => JSON.parse(k) as string);
  if (keys.length !== new Set(keys).size) {
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
    throw new InvalidRequest(`The JSON field ${JSON.stringify(duplicate)} appears more than once.`);
  }
  const result: Record<string, string> = Object.create(null);
  for (const [key, v] of entries) result[key] = v as string;
  return result;
}

export function parseForm(text: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const key = decodeFormComponent(rawKey);
    if (Object.hasOwn(result, key)) throw new InvalidRequest(`The parameter ${JSON.stringify(key)} appears more than once (RFC 6749 §3.2).`);
    result[key] = decodeFormComponent(rawValue);
  }
  return result;
}

function decodeFormComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('The form body has a malformed percent-encoding.');
  }
}

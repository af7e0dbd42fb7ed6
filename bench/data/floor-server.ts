/**
 * The floor of a 50-transaction page on SQLite: the least a server can do per request and still
 * keep the data API's promises, on Ferry's own database file, measured beside Ferry and the bare
 * server by run.ts (the `floor` row, SQLite, `--no-floor` leaves it out).
 *
 * It is not Ferry and serves nothing else. It answers
 * `GET /v1/accounts/{accountId}/transactions?pageSize=N` (a first page) with what the request
 * must do and nothing more:
 *
 * - node:http, no framework, no logging, no metrics, no validation schema;
 * - the bearer token's HS256 signature checked once per token text and kept (as Ferry does), its
 *   lifetime and `Accounts` scope (the claim's spelling) on every request;
 * - on every request, one read of the grant, its consent and the account in the path (revoked,
 *   expired, past a one-time deadline, not the consent's account: 401 or 404);
 * - the page read with Ferry's statement (the keyset index, newest first, pageSize + 1 rows), as
 *   arrays made row objects the way Ferry's prepared reads make them;
 * - the answer written by Ferry's serializer (src/data/serialize.ts) with Ferry's signed paging
 *   token: byte for byte Ferry's answer, which run.ts checks.
 *
 * - the answers of one event-loop turn written together at its end, as Ferry writes them.
 *
 * What it leaves out that Ferry must have: request ids and the access log, rate limits, errors in
 * the protocol's format, the query's validation, later pages, PostgreSQL, metrics. So Ferry can only be slower: a rate this floor does not
 * reach, Ferry cannot either on the same store.
 * Run as a child of run.ts (IPC: { port, file } in, { ready } out).
 */
import http from 'node:http';
import Database from 'better-sqlite3';
import { TRANSACTION_WIRE_COLUMNS, type TransactionWireRow } from '../../src/data/data-store.js';
import { PagingTokens } from '../../src/data/paging.js';
import { transactionPageJson } from '../../src/data/serialize.js';
import { verifyJwt } from '../../src/tokens/jwt.js';

const { port, file } = await new Promise<{ port: number; file: string }>((resolve) => process.once('message', resolve as never));

const sqlite = new Database(file);
const keys = new Map((sqlite.prepare('select kid, secret from signing_keys').all() as Array<{ kid: string; secret: string }>).map((k) => [k.kid, Buffer.from(k.secret, 'base64url')]));
const pagingSecret = sqlite.prepare("select value from settings where key = 'secret:paging'").pluck().get() as string | undefined;
if (pagingSecret === undefined) throw new Error('the database has no paging secret: start Ferry on it once first');
const paging = new PagingTokens(Buffer.from(pagingSecret, 'base64url'));

/** grants.revoked_at, grants.expires_at, grants.app_id, consents.status, consents.delete_at; no row: not this consent's account. */
const liveness = sqlite
  .prepare(
    `select g.revoked_at, g.expires_at, g.app_id, c.status, c.delete_at from grants g join consents c on c.id = g.consent_id
     join accounts a on a.consent_id = c.id and a.id = ? where g.id = ?`,
  )
  .raw(true);
const page = sqlite
  .prepare(`select ${TRANSACTION_WIRE_COLUMNS.join(', ')} from transactions where account_id = ? and is_deleted = 0 order by date desc, ordinal desc, id desc limit ?`)
  .raw(true);
const toRow = new Function('v', `return { ${TRANSACTION_WIRE_COLUMNS.map((c, i) => `${c}: v[${i}]`).join(', ')} };`) as (values: unknown[]) => TransactionWireRow;

interface Claims {
  sessionId: string;
  clientId: string;
  scopes: string;
  exp: number;
}
/** Verified tokens by their text: the signature once, the lifetime on every request. */
const verified = new Map<string, Claims>();

function claimsOf(authorization: string | undefined): Claims | null {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return null;
  const token = authorization.slice(7);
  let claims = verified.get(token);
  if (claims === undefined) {
    try {
      claims = verifyJwt(token, (kid) => keys.get(kid), Math.floor(Date.now() / 1000)) as unknown as Claims;
    } catch {
      return null;
    }
    if (typeof claims.sessionId !== 'string' || typeof claims.scopes !== 'string') return null;
    verified.set(token, claims);
  }
  return claims.exp > Date.now() / 1000 && claims.scopes.split(' ').includes('Accounts') ? claims : null;
}

const PATH = /^\/v1\/accounts\/([^/?]+)\/transactions\?pageSize=(\d+)$/;
const JSON_TYPE = 'application/json; charset=utf-8';

/** The answers of one event-loop turn, written together at its end (as Ferry's src/http/answer-batching.ts). */
let held: Array<{ response: http.ServerResponse; status: number; body: Buffer; extra: Record<string, string> }> = [];
function writeHeld() {
  const answers = held;
  held = [];
  for (const { response, status, body, extra } of answers) {
    response.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': body.length, ...extra });
    response.end(body);
  }
}
function answer(response: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}) {
  if (held.length === 0) setImmediate(writeHeld);
  held.push({ response, status, body: Buffer.from(body), extra });
}

const server = http.createServer((request, response) => {
  const claims = claimsOf(request.headers.authorization);
  if (claims === null) return answer(response, 401, '{"error":"invalid_token"}', { 'www-authenticate': 'Bearer error="invalid_token"' });
  const match = PATH.exec(request.url ?? '');
  const pageSize = match === null ? 0 : Number(match[2]);
  if (match === null || pageSize < 1 || pageSize > 1000) return answer(response, 400, '{"error":"invalid_request"}');
  const accountId = decodeURIComponent(match[1]!);
  const live = liveness.get(accountId, claims.sessionId) as [number | null, number | null, string, string, number | null] | undefined;
  if (live === undefined) return answer(response, 404, '{"error":"not_found"}');
  const now = Date.now();
  const [revokedAt, expiresAt, appId, status, deleteAt] = live;
  if (revokedAt !== null || (expiresAt !== null && expiresAt <= now) || appId !== claims.clientId || status !== 'Active' || (deleteAt !== null && deleteAt <= now)) {
    return answer(response, 401, '{"error":"invalid_token"}', { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  const values = page.all(accountId, pageSize + 1) as unknown[][];
  const rows = new Array<TransactionWireRow>(values.length);
  for (let i = 0; i < values.length; i++) rows[i] = toRow(values[i]!);
  const more = rows.length > pageSize;
  const count = more ? pageSize : rows.length;
  const last = rows[count - 1];
  const pagingToken = more && last !== undefined ? paging.encode(accountId, 'all', { date: last.date, ordinal: Number(last.ordinal), id: last.id }) : null;
  answer(response, 200, transactionPageJson(rows, count, accountId, pagingToken));
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.send!({ ready: true }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));

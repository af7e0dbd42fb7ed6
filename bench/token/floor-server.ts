/**
 * The floor of a durable code exchange: the least a server can do per exchange and still keep
 * Ferry's promises, on Ferry's own database (minted by ferry-setup.ts), measured beside Ferry and
 * oidc-provider by run.ts (targets `floor-sqlite`, `floor-postgres`).
 *
 * It is not Ferry and serves nothing else. It answers `POST /v1/oauth/token` with what the
 * exchange must do and nothing more:
 *
 * - node:http, no framework, no logging, no metrics, no validation schema;
 * - Basic client authentication: the app row read once and kept, the secret's SHA-256 compared in
 *   constant time on every request (as Ferry);
 * - the JSON body parsed; the code's SHA-256 looked up with its consent; app, expiry, single use,
 *   redirect_uri, PKCE S256 and the consent checked;
 * - the writes Ferry makes (the code consumed, a grant, the refresh token's hash), durably
 *   committed before answering;
 * - two HS256 JWTs (access and refresh token, Ferry's claims) signed with node:crypto, their ids
 *   from Ferry's pool of random bytes (src/crypto.ts).
 *
 * SQLite: kept better-sqlite3 statements; the writes of a 2 ms window share one BEGIN IMMEDIATE …
 * COMMIT (Ferry's group commit, without its SAVEPOINT per exchange); WAL checkpoints in Ferry's
 * checkpointer thread. PostgreSQL (a pool of 10): more than Ferry does, all the exchanges of one
 * event-loop turn share one read (`unnest` of their hashes) and one write statement (a
 * data-modifying CTE over `unnest` of their values): two round trips and one commit per batch.
 *
 * What it leaves out that Ferry must have: request ids and the access log, rate limits, errors in
 * the protocol's format, the body and header checks of RFC 6749, a SAVEPOINT per exchange (one
 * failing write rolls back alone), metrics, the revocation of a replayed code's grant. So Ferry can
 * only be slower: a rate this floor does not reach, Ferry cannot either on the same store.
 * Run as a child of run.ts (IPC: { port, file } or { port, url } in, { ready } out).
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import Database from 'better-sqlite3';
import pg from 'pg';
import { randomToken } from '../../src/crypto.js';
import { startCheckpointer } from '../../src/db/checkpointer.js';

const { port, file, url } = await new Promise<{ port: number; file?: string; url?: string }>((resolve) => process.once('message', resolve as never));

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const key = { kid: 'floor', secret: randomBytes(32) };
const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: key.kid })).toString('base64url');
const signJwt = (claims: Record<string, unknown>) => {
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key.secret).update(input).digest('base64url')}`;
};

/** app_id, redirect_uri, scopes, code_challenge, expires_at, consumed_at, consent id, user_id, status, delete_at */
type CodeRow = [string, string, string, string | null, number, number | null, string | null, string, string, number | null];
interface Write {
  hash: string;
  grantId: string;
  clientId: string;
  consentId: string;
  scopes: string;
  now: number;
  grantExpires: number | null;
  refreshHash: string;
  refreshExpires: number;
}
interface Store {
  secretHash(appId: string): Promise<string | undefined>;
  /** The rows of these code hashes, in their order (undefined: no such code). */
  findCodes(hashes: string[]): Promise<(CodeRow | undefined)[]>;
  /** Each write committed (true) or its code found consumed already (false); settles after the commit. */
  write(batch: Write[]): Promise<boolean[]>;
}

const CODE_COLUMNS = `c.app_id, c.redirect_uri, c.scopes, c.code_challenge, c.expires_at, c.consumed_at, s.id, s.user_id, s.status, s.delete_at`;

function sqliteStore(path: string): Store {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON');
  startCheckpointer(sqlite, path);
  const findApp = sqlite.prepare('select secret_hash from apps where id = ?').pluck();
  const findCode = sqlite.prepare(`select ${CODE_COLUMNS} from authorization_codes c left join consents s on s.id = c.consent_id where c.hash = ?`).raw(true);
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const consume = sqlite.prepare('update authorization_codes set consumed_at = ?, grant_id = ? where hash = ? and consumed_at is null');
  const insertGrant = sqlite.prepare(
    'insert into grants (id, app_id, consent_id, scopes, created_at, expires_at, revoked_at, revoked_reason) values (?, ?, ?, ?, ?, ?, null, null)',
  );
  const insertRefresh = sqlite.prepare('insert into refresh_tokens (hash, grant_id, created_at, expires_at) values (?, ?, ?, ?)');
  return {
    secretHash: async (appId) => findApp.get(appId) as string | undefined,
    findCodes: async (hashes) => hashes.map((h) => findCode.get(h) as CodeRow | undefined),
    async write(batch) {
      begin.run();
      const won = batch.map((w) => {
        if (consume.run(w.now, w.grantId, w.hash).changes !== 1) return false;
        insertGrant.run(w.grantId, w.clientId, w.consentId, w.scopes, w.now, w.grantExpires);
        insertRefresh.run(w.refreshHash, w.grantId, w.now, w.refreshExpires);
        return true;
      });
      commit.run();
      return won;
    },
  };
}

function postgresStore(connectionString: string): Store {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // Bigints as numbers, as Ferry reads them.
  pg.types.setTypeParser(20, Number);
  const findCodes = {
    name: 'floor_find_codes',
    text: `select k.n, ${CODE_COLUMNS} from unnest($1::text[]) with ordinality as k(hash, n)
           join authorization_codes c on c.hash = k.hash left join consents s on s.id = c.consent_id`,
    rowMode: 'array' as const,
  };
  const write = {
    name: 'floor_write',
    text: `with input as (
             select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) as i(hash, grant_id, app_id, grant_expires, refresh_hash, refresh_expires)
           ), consumed as (
             update authorization_codes c set consumed_at = $7::bigint, grant_id = i.grant_id from input i
             where c.hash = i.hash and c.consumed_at is null and c.app_id = i.app_id
             returning c.consent_id, c.scopes, c.app_id, i.grant_id, i.grant_expires, i.refresh_hash, i.refresh_expires
           ), created as (
             insert into grants (id, app_id, consent_id, scopes, created_at, expires_at, revoked_at, revoked_reason)
             select grant_id, app_id, consent_id, scopes, $7::bigint, grant_expires, null, null from consumed
             returning id
           )
           insert into refresh_tokens (hash, grant_id, created_at, expires_at)
           select refresh_hash, consumed.grant_id, $7::bigint, refresh_expires from consumed join created on created.id = consumed.grant_id
           returning grant_id`,
  };
  return {
    async secretHash(appId) {
      const result = await pool.query('select secret_hash from apps where id = $1', [appId]);
      return result.rows[0]?.secret_hash as string | undefined;
    },
    async findCodes(hashes) {
      const result = await pool.query<unknown[]>({ ...findCodes, values: [hashes] });
      const rows = new Array<CodeRow | undefined>(hashes.length);
      for (const r of result.rows) rows[Number(r[0]) - 1] = r.slice(1) as CodeRow;
      return rows;
    },
    async write(batch) {
      const now = batch[0]!.now;
      const result = await pool.query({
        ...write,
        values: [
          batch.map((w) => w.hash),
          batch.map((w) => w.grantId),
          batch.map((w) => w.clientId),
          batch.map((w) => w.grantExpires),
          batch.map((w) => w.refreshHash),
          batch.map((w) => w.refreshExpires),
          now,
        ],
      });
      const done = new Set(result.rows.map((r: { grant_id: string }) => r.grant_id));
      return batch.map((w) => done.has(w.grantId));
    },
  };
}

const store = url !== undefined ? postgresStore(url) : sqliteStore(file!);

/** Work queued until a flush, each item answered by the batch's outcome. */
function batcher<In, Out>(run: (batch: In[]) => Promise<Out[]>, schedule: (flush: () => void) => void) {
  let queue: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    run(batch.map((q) => q.input)).then(
      (outs) => batch.forEach((q, i) => q.resolve(outs[i]!)),
      (error) => batch.forEach((q) => q.reject(error)),
    );
  };
  return (input: In) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (queue.length === 1) schedule(flush);
    });
}
const findCode = url !== undefined ? batcher(store.findCodes, (f) => setImmediate(f)) : async (hash: string) => (await store.findCodes([hash]))[0];
// SQLite: Ferry's window (GROUP_COMMIT_WINDOW_MS, 2 ms), so the writes of the requests arriving meanwhile share the commit.
const commitWrite = batcher(store.write, url !== undefined ? (f) => setImmediate(f) : (f) => setTimeout(f, 2));

const apps = new Map<string, Buffer>();
async function authenticated(authorization: string | undefined): Promise<string | null> {
  if (authorization === undefined || !authorization.startsWith('Basic ')) return null;
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const id = decoded.slice(0, colon);
  let hash = apps.get(id);
  if (hash === undefined) {
    const found = await store.secretHash(id);
    if (found === undefined) return null;
    hash = Buffer.from(found);
    apps.set(id, hash);
  }
  const given = Buffer.from(sha256(decoded.slice(colon + 1)));
  return given.length === hash.length && timingSafeEqual(given, hash) ? id : null;
}

function answer(response: http.ServerResponse, status: number, body: string) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', pragma: 'no-cache' });
  response.end(body);
}

const INVALID_GRANT = '{"error":"invalid_grant"}';

async function exchange(clientId: string, text: string, response: http.ServerResponse) {
  const body = JSON.parse(text) as Record<string, string>;
  if (body.grant_type !== 'authorization_code' || typeof body.code !== 'string') return answer(response, 400, '{"error":"invalid_request"}');
  const hash = sha256(body.code);
  const row = await findCode(hash);
  const now = Date.now();
  if (row === undefined) return answer(response, 400, INVALID_GRANT);
  const [appId, redirectUri, scopes, challenge, expiresAt, consumedAt, consentId, userId, status, deleteAt] = row;
  if (appId !== clientId || consumedAt !== null || expiresAt <= now || body.redirect_uri !== redirectUri) return answer(response, 400, INVALID_GRANT);
  if (challenge !== null && (typeof body.code_verifier !== 'string' || sha256(body.code_verifier) !== challenge)) return answer(response, 400, INVALID_GRANT);
  if (consentId === null || status !== 'Active' || (deleteAt !== null && deleteAt <= now)) return answer(response, 400, INVALID_GRANT);

  const grantId = randomUUID();
  const iat = Math.floor(now / 1000);
  const jti = randomToken(32);
  const refreshExpires = now + 14 * 24 * 3600 * 1000;
  const common = { iss: 'http://127.0.0.1', userId, clientId, consentId, sessionId: grantId, scopes };
  const refreshToken = signJwt({ ...common, role: 'RefreshToken', jti, nbf: iat, iat, exp: Math.floor(refreshExpires / 1000) });
  const accessToken = signJwt({ ...common, role: 'ClientUser', jti: randomToken(12), nbf: iat, iat, exp: iat + 3600 });
  const won = await commitWrite({ hash, grantId, clientId, consentId, scopes, now, grantExpires: deleteAt, refreshHash: sha256(jti), refreshExpires });
  if (!won) return answer(response, 400, INVALID_GRANT);
  answer(response, 200, JSON.stringify({ access_token: accessToken, expires_in: 3600, redirect_uri: redirectUri, refresh_token: refreshToken, token_type: 'bearer' }));
}

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    authenticated(request.headers.authorization)
      .then((clientId) => (clientId === null ? answer(response, 401, '{"error":"invalid_client"}') : exchange(clientId, Buffer.concat(chunks).toString('utf8'), response)))
      .catch(() => answer(response, 500, '{"error":"server_error"}'));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.send!({ ready: true, port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));

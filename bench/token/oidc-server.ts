/**
 * The baseline of the token benchmark: oidc-provider (npm, v9) with one confidential client
 * (client_secret_basic), PKCE required (S256), and N authorization codes minted ahead, each with its
 * own grant, as the authorization endpoint would have left them. Run as a child of run.ts:
 *
 *   node --import tsx bench/token/oidc-server.ts   (IPC: { port, count, idTokenAlg } in; { ready, port, codesFile } out)
 *
 * idTokenAlg null: codes for `offline_access` only, so an exchange issues what Ferry's does (an access
 * and a refresh token). 'RS256' or 'ES256': `openid offline_access`, so it also signs an ID token.
 *
 * Storage is a plain Map adapter: oidc-provider's bundled MemoryAdapter is an LRU of 1,000 entries,
 * which would evict codes minted ahead. A Map is the cheapest storage it can have; Ferry writes to
 * a real database, so the comparison favours oidc-provider.
 */
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { OIDC_CLIENT } from './oidc-client.js';

// oidc-provider ships no types; this is the part of its API used here.
interface OidcProvider {
  Client: { find(id: string): Promise<unknown> };
  Grant: new (payload: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
  AuthorizationCode: new (payload: Record<string, unknown>) => { save(): Promise<string> };
  on(event: 'server_error', listener: (ctx: unknown, error: unknown) => void): void;
  callback(): http.RequestListener;
}
const { default: Provider } = (await import('oidc-provider' as string)) as { default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider };

const stores = new Map<string, Map<string, Record<string, unknown>>>();
const grantMembers = new Map<string, Set<string>>();

/** oidc-provider's adapter interface over plain Maps (no expiry sweeping: the models check `exp`). */
class MapAdapter {
  private readonly store: Map<string, Record<string, unknown>>;
  constructor(private readonly name: string) {
    let store = stores.get(name);
    if (store === undefined) {
      store = new Map();
      stores.set(name, store);
    }
    this.store = store;
  }
  async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
    this.store.set(id, payload);
    const grantId = payload.grantId;
    if (typeof grantId === 'string') {
      let members = grantMembers.get(grantId);
      if (members === undefined) grantMembers.set(grantId, (members = new Set()));
      members.add(`${this.name}:${id}`);
    }
  }
  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return this.store.get(id);
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    for (const payload of this.store.values()) if (payload.uid === uid) return payload;
    return undefined;
  }
  async consume(id: string): Promise<void> {
    const payload = this.store.get(id);
    if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    this.store.delete(id);
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of grantMembers.get(grantId) ?? []) {
      const colon = key.indexOf(':');
      stores.get(key.slice(0, colon))?.delete(key.slice(colon + 1));
    }
    grantMembers.delete(grantId);
  }
}

async function main(): Promise<void> {
  const { port, count, idTokenAlg } = await new Promise<{ port: number; count: number; idTokenAlg: 'ES256' | 'RS256' | null }>((resolve) => process.once('message', resolve as never));
  const alg = idTokenAlg ?? 'ES256';
  const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg, use: 'sig' };
  const idToken = idTokenAlg !== null;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    clients: [
      {
        client_id: OIDC_CLIENT.clientId,
        client_secret: OIDC_CLIENT.clientSecret,
        redirect_uris: [OIDC_CLIENT.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: alg,
      },
    ],
    pkce: { required: () => true },
    jwks: { keys: [jwk] },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: { devInteractions: { enabled: false } },
    // Codes are minted ahead of the run; give them the time to be used (both sides do this).
    ttl: { AuthorizationCode: 3600, AccessToken: 3600, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600, IdToken: 3600 },
  });
  provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${String(error)}\n`));

  // Mint codes the way the authorization endpoint does: a Grant with the scopes, then the code bound to it.
  const client = await provider.Client.find(OIDC_CLIENT.clientId);
  if (client === undefined) throw new Error('client not found');
  const scope = idToken ? 'openid offline_access' : 'offline_access';
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: OIDC_CLIENT.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const verifier = randomBytes(32).toString('base64url');
    const code = await new provider.AuthorizationCode({
      accountId,
      grantId,
      client,
      redirectUri: OIDC_CLIENT.redirectUri,
      scope,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      authTime: Math.floor(Date.now() / 1000),
    }).save();
    lines.push(`${code} ${verifier}`);
  }
  const codesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-oidc-')), 'codes.txt');
  fs.writeFileSync(codesFile, lines.join('\n'));

  const server = http.createServer(provider.callback());
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => process.send!({ ready: true, port, codesFile }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

await main();

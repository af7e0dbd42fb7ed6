import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { constantTimeEqual, randomToken, sha256 } from '../crypto.js';
import { databaseOf, prepareQuery, preparedFor, type FerryDatabase, type PreparedQuery, type QueryParam } from '../db/database.js';
import type { AppRow, Database } from '../db/schema.js';
import { validateRedirectUriRegistration } from '../oauth/redirect-uri.js';
import { KEPT_APP_ID } from '../accounts/kept-app.js';

/**
 * Apps (OAuth clients). A client secret is a random 256-bit value shown once; only its SHA-256
 * is stored: it is high-entropy, so a slow password hash would buy nothing and cost throughput.
 */
export interface App {
  id: string;
  name: string;
  redirectUris: string[];
  webhookUrl: string | null;
  logoUrl: string | null;
  brandColor: string | null;
  isDemo: boolean;
  createdAt: number;
}

export class AppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppError';
  }
}

export interface NewAppInput {
  name: string;
  redirectUris: string[];
  webhookUrl?: string | null;
  webhookSecret?: string | null;
  logoUrl?: string | null;
  brandColor?: string | null;
  isDemo?: boolean;
  /** The portal user who creates it (developer portal, `app_owners`); the CLI's apps have none. */
  ownerUserId?: string | null;
}

const MAX_NAME_LENGTH = 100;
const BRAND_COLOR = /^#[0-9a-fA-F]{6}$/;

export async function createApp(db: Kysely<Database>, clock: Clock, input: NewAppInput): Promise<{ app: App; clientSecret: string }> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw new AppError(`The app name must be 1 to ${MAX_NAME_LENGTH} characters.`);
  if (input.redirectUris.length === 0) throw new AppError('An app needs at least one redirect URI.');
  const redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
  if (input.webhookSecret && !input.webhookUrl) throw new AppError('A webhook secret needs a webhook URL.');
  const webhookUrl = input.webhookUrl ? checkWebhookUrl(input.webhookUrl) : null;
  if (input.brandColor && !BRAND_COLOR.test(input.brandColor)) throw new AppError('The brand colour must look like #1a73e8.');
  const logoUrl = input.logoUrl ? checkLogoUrl(input.logoUrl) : null;

  const id = `${slug(name)}-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, '') || 'app'}`;
  const clientSecret = randomToken(32);
  const now = clock.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('apps')
      .values({
        id,
        name,
        secret_hash: sha256(clientSecret),
        previous_secret_hash: null,
        previous_secret_expires_at: null,
        webhook_url: webhookUrl,
        webhook_secret: input.webhookSecret ?? null,
        logo_url: logoUrl,
        brand_color: input.brandColor ?? null,
        is_demo: input.isDemo ? 1 : 0,
        created_at: now,
      })
      .execute();
    await trx
      .insertInto('app_redirect_uris')
      .values(redirectUris.map((uri) => ({ app_id: id, uri, created_at: now })))
      .execute();
    if (input.ownerUserId) await trx.insertInto('app_owners').values({ app_id: id, user_id: input.ownerUserId, created_at: now }).execute();
  });
  const app = await findApp(db, id);
  if (app === undefined) throw new Error('app vanished after insert');
  return { app, clientSecret };
}

const APP_COLUMNS = [
  'id',
  'name',
  'secret_hash',
  'previous_secret_hash',
  'previous_secret_expires_at',
  'webhook_url',
  'webhook_secret',
  'logo_url',
  'brand_color',
  'is_demo',
  'created_at',
] as const satisfies ReadonlyArray<keyof AppRow>;

/** The app row query, compiled once per database (every token request reads it). */
const appRowQueries = new WeakMap<FerryDatabase, PreparedQuery<{ id: string }, AppRow>>();

export async function findAppRow(db: Kysely<Database>, id: string): Promise<AppRow | undefined> {
  const database = databaseOf(db);
  // A transaction (or a Kysely instance not opened by openDatabase) has no kept statements.
  if (database === undefined) return db.selectFrom('apps').select(APP_COLUMNS).where('id', '=', id).executeTakeFirst();
  let query = appRowQueries.get(database);
  if (query === undefined) {
    query = prepareQuery(database, (qb, param: QueryParam<{ id: string }>) => qb.selectFrom('apps').select(APP_COLUMNS).where('id', '=', param('id')));
    appRowQueries.set(database, query);
  }
  return query.first({ id });
}

/** How long {@link findAppRowCached} keeps an app row. */
export const APP_ROW_CACHE_MS = 1000;
const cachedRows = new WeakMap<Kysely<Database>, Map<string, { row: AppRow; until: number }>>();

/**
 * {@link findAppRow}, remembered for {@link APP_ROW_CACHE_MS} (by the monotonic clock, not the
 * app's clock): the token endpoint reads the same few apps thousands of times a second. The
 * secret is still checked against the row on every request; a rotation here drops the entry at
 * once, one in another process (PostgreSQL, several instances) is seen up to a second later.
 * Only for client authentication: other readers want the row as it is now.
 */
export async function findAppRowCached(db: Kysely<Database>, id: string): Promise<AppRow | undefined> {
  let rows = cachedRows.get(db);
  if (rows === undefined) cachedRows.set(db, (rows = new Map()));
  const now = performance.now();
  const hit = rows.get(id);
  if (hit !== undefined && hit.until > now) return hit.row;
  const row = await findAppRow(db, id);
  // Misses are not kept: an app created a moment ago must be found.
  if (row === undefined) rows.delete(id);
  else {
    // Bounded by the number of apps that authenticate; expired entries are dropped as they are met.
    rows.set(id, { row, until: now + APP_ROW_CACHE_MS });
  }
  return row;
}

function forgetCachedAppRow(db: Kysely<Database>, id: string): void {
  cachedRows.get(db)?.delete(id);
}

export async function findApp(db: Kysely<Database>, id: string): Promise<App | undefined> {
  const row = await findAppRow(db, id);
  if (row === undefined) return undefined;
  return toApp(row, await loadRedirectUris(db, id));
}

export async function listApps(db: Kysely<Database>): Promise<App[]> {
  // The reserved app that holds data users keep for themselves (src/accounts/claim.ts) is no app to list.
  const rows = await db.selectFrom('apps').selectAll().where('id', '!=', KEPT_APP_ID).orderBy('created_at').orderBy('id').execute();
  const uris = await db.selectFrom('app_redirect_uris').select(['app_id', 'uri']).orderBy('created_at').orderBy('uri').execute();
  return rows.map((row) => toApp(row, uris.filter((u) => u.app_id === row.id).map((u) => u.uri)));
}

export async function loadRedirectUris(db: Kysely<Database>, appId: string): Promise<string[]> {
  // Every connect request reads them: compiled once per database.
  const build = (kysely: Kysely<Database>, p: QueryParam<{ appId: string }>) => kysely.selectFrom('app_redirect_uris').select('uri').where('app_id', '=', p('appId')).orderBy('created_at').orderBy('uri');
  const prepared = preparedFor(db, 'loadRedirectUris', build);
  const rows = prepared !== undefined ? await prepared.all({ appId }) : await build(db, () => appId).execute();
  return rows.map((r) => r.uri);
}

/** Checks a presented client secret against the current one, or the previous one during its grace period. */
export function clientSecretMatches(app: AppRow, secret: string, now: number): boolean {
  const hash = sha256(secret);
  if (constantTimeEqual(hash, app.secret_hash)) return true;
  return (
    app.previous_secret_hash !== null &&
    app.previous_secret_expires_at !== null &&
    app.previous_secret_expires_at > now &&
    constantTimeEqual(hash, app.previous_secret_hash)
  );
}

/** Issues a new secret; the old one keeps working for `graceSeconds` (0: stops at once). */
export async function rotateClientSecret(db: Kysely<Database>, clock: Clock, appId: string, graceSeconds = 0): Promise<string> {
  const app = await findAppRow(db, appId);
  if (app === undefined) throw new AppError(`No app with client id ${appId}.`);
  const clientSecret = randomToken(32);
  const now = clock.now();
  await db
    .updateTable('apps')
    .set({
      secret_hash: sha256(clientSecret),
      previous_secret_hash: graceSeconds > 0 ? app.secret_hash : null,
      previous_secret_expires_at: graceSeconds > 0 ? now + graceSeconds * 1000 : null,
    })
    .where('id', '=', appId)
    .execute();
  forgetCachedAppRow(db, appId);
  return clientSecret;
}

export interface AppProfileInput {
  name: string;
  logoUrl: string | null;
  brandColor: string | null;
}

/** Name, logo and brand colour (shown in the hosted flow), checked as {@link createApp} checks them. */
export async function updateAppProfile(db: Kysely<Database>, appId: string, input: AppProfileInput): Promise<App> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw new AppError(`The app name must be 1 to ${MAX_NAME_LENGTH} characters.`);
  if (input.brandColor && !BRAND_COLOR.test(input.brandColor)) throw new AppError('The brand colour must look like #1a73e8.');
  const logoUrl = input.logoUrl ? checkLogoUrl(input.logoUrl) : null;
  const updated = await db
    .updateTable('apps')
    .set({ name, logo_url: logoUrl, brand_color: input.brandColor ? input.brandColor.toLowerCase() : null })
    .where('id', '=', appId)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) throw new AppError(`No app with client id ${appId}.`);
  return (await findApp(db, appId))!;
}

/**
 * The app's webhook URL and signing secret. `secret`: a new value, `null` to sign no more, or
 * `undefined` to keep the current one. A null URL removes both.
 */
export async function setAppWebhook(db: Kysely<Database>, appId: string, input: { url: string | null; secret?: string | null }): Promise<void> {
  const url = input.url ? checkWebhookUrl(input.url) : null;
  if (url === null && input.secret) throw new AppError('A webhook secret needs a webhook URL.');
  const secret = url === null ? { webhook_secret: null } : input.secret === undefined ? {} : { webhook_secret: input.secret };
  const updated = await db
    .updateTable('apps')
    .set({ webhook_url: url, ...secret })
    .where('id', '=', appId)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) throw new AppError(`No app with client id ${appId}.`);
}

export async function addRedirectUri(db: Kysely<Database>, clock: Clock, appId: string, uri: string): Promise<string[]> {
  if ((await findAppRow(db, appId)) === undefined) throw new AppError(`No app with client id ${appId}.`);
  const checked = checkRedirectUri(uri);
  const existing = await loadRedirectUris(db, appId);
  if (!existing.includes(checked)) {
    await db.insertInto('app_redirect_uris').values({ app_id: appId, uri: checked, created_at: clock.now() }).execute();
  }
  return loadRedirectUris(db, appId);
}

export async function removeRedirectUri(db: Kysely<Database>, appId: string, uri: string): Promise<string[]> {
  if ((await findAppRow(db, appId)) === undefined) throw new AppError(`No app with client id ${appId}.`);
  const existing = await loadRedirectUris(db, appId);
  if (!existing.includes(uri)) throw new AppError(`${uri} is not registered for ${appId}.`);
  if (existing.length === 1) throw new AppError('An app needs at least one redirect URI: add another before removing this one.');
  await db.deleteFrom('app_redirect_uris').where('app_id', '=', appId).where('uri', '=', uri).execute();
  return loadRedirectUris(db, appId);
}

function checkRedirectUri(uri: string): string {
  const result = validateRedirectUriRegistration(uri);
  if (!result.ok) throw new AppError(`Redirect URI ${JSON.stringify(uri)} refused: ${result.reason}`);
  return result.uri;
}

function checkWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError(`Webhook URL ${JSON.stringify(raw)} is not an absolute URL.`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new AppError('A webhook URL must use https (http only for localhost while testing).');
  }
  if (url.username || url.password || url.hash) throw new AppError('A webhook URL may not hold credentials or a fragment.');
  return url.toString();
}

function checkLogoUrl(raw: string): string {
  if (raw.startsWith('/')) return raw;
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:') return url.toString();
  } catch {
    // falls through to the error
  }
  throw new AppError('A logo URL must be https (or a path Ferry serves).');
}

function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return s || 'app';
}

function toApp(row: AppRow, redirectUris: string[]): App {
  return {
    id: row.id,
    name: row.name,
    redirectUris,
    webhookUrl: row.webhook_url,
    logoUrl: row.logo_url,
    brandColor: row.brand_color,
    isDemo: row.is_demo === 1,
    createdAt: row.created_at,
  };
}

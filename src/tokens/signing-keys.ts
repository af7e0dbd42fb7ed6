import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import { randomToken } from '../crypto.js';
import type { Database } from '../db/schema.js';
import type { JwtKey } from './jwt.js';

/** A retired key keeps verifying for as long as the longest token it may have signed lives. */
export const RETIRED_KEY_GRACE_MS = 15 * 24 * 60 * 60 * 1000;
/** How often a process re-reads the keys, so a rotation by another process reaches it. */
const RELOAD_INTERVAL_MS = 60_000;
/** A token with an unknown `kid` makes a reload happen at most this often. */
const MISS_RELOAD_MIN_INTERVAL_MS = 2_000;

/**
 * The token signing keys, kept in the database so every Ferry process signs and verifies with
 * the same ones, and cached in memory: verification is on every data API request.
 */
export class SigningKeys {
  private signing: JwtKey | undefined;
  private verifying = new Map<string, Buffer>();
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys, creating the first one on a new deployment. */
  async init(): Promise<void> {
    await this.reload();
    if (this.signing === undefined) {
      await createSigningKey(this.db, this.clock);
      await this.reload();
    }
  }

  /** The key new tokens are signed with. */
  current(): JwtKey {
    this.refreshInBackgroundIfStale();
    if (this.signing === undefined) throw new Error('signing keys are not loaded (call init first)');
    return this.signing;
  }

  /** The secret for a `kid`, for verification; a miss triggers a (rate-limited) reload. */
  secretFor(kid: string): Buffer | undefined {
    this.refreshInBackgroundIfStale();
    const secret = this.verifying.get(kid);
    if (secret === undefined && this.clock.now() - this.loadedAt > MISS_RELOAD_MIN_INTERVAL_MS) void this.reloadOnce();
    return secret;
  }

  /** Awaits a reload when the `kid` is unknown: a key created by another process a moment ago. */
  async secretForAsync(kid: string): Promise<Buffer | undefined> {
    const secret = this.secretFor(kid);
    if (secret !== undefined) return secret;
    await this.reloadOnce();
    return this.verifying.get(kid);
  }

  private refreshInBackgroundIfStale(): void {
    if (this.clock.now() - this.loadedAt > RELOAD_INTERVAL_MS) void this.reloadOnce();
  }

  private reloadOnce(): Promise<void> {
    this.reloading ??= this.reload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  async reload(): Promise<void> {
    const now = this.clock.now();
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', now - RETIRED_KEY_GRACE_MS)]))
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute();
    const verifying = new Map<string, Buffer>();
    let signing: JwtKey | undefined;
    for (const row of rows) {
      const secret = Buffer.from(row.secret, 'base64url');
      verifying.set(row.kid, secret);
      if (signing === undefined && row.retired_at === null) signing = { kid: row.kid, secret };
    }
    this.verifying = verifying;
    this.signing = signing;
    this.loadedAt = now;
  }
}

/** Creates a new signing key and retires the ones before it (`ferry keys rotate`). */
export async function createSigningKey(db: Kysely<Database>, clock: Clock): Promise<{ kid: string; retired: number }> {
  const now = clock.now();
  const kid = `${new Date(now).toISOString().slice(0, 10)}-${randomToken(6)}`;
  return db.transaction().execute(async (trx) => {
    const retired = await trx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).executeTakeFirst();
    await trx
      .insertInto('signing_keys')
      .values({ kid, alg: 'HS256', secret: randomBytes(32).toString('base64url'), created_at: now, retired_at: null })
      .execute();
    return { kid, retired: Number(retired.numUpdatedRows) };
  });
}

import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { databaseOf, preparedSql, prepareQuery, type FerryDatabase, type QueryParam } from '../db/database.js';
import type { ConsentRow, Database, GrantRow } from '../db/schema.js';

/**
 * The token endpoint's reads and writes, each database its fastest way, behind one interface
 * (chosen once, in {@link createTokenStore}): the endpoint is Ferry's hottest write path, and
 * SQLite and PostgreSQL are fast in opposite ways (in-process calls and one shared commit, against
 * few round trips and statements planned once). TokenService keeps the rules; this keeps the SQL.
 */
export interface TokenStore {
  /** The code by its hash, with the consent it was issued under (undefined: no such consent any more). */
  findCode(hash: string): Promise<{ code: CodeFacts; consent: ConsentFacts | undefined } | undefined>;
  /**
   * Consumes the code (`consumed_at`, `grant_id`) and writes its grant and the grant's first
   * refresh token, atomically. False when the code was consumed already (a concurrent use won):
   * nothing is written then.
   */
  consumeCode(hash: string, now: number, grant: NewGrant, refresh: NewRefreshToken): Promise<boolean>;
  /** The grant a consumed code was exchanged for. */
  grantOfCode(hash: string): Promise<string | null>;
  /** Marks an unused, unexpired refresh token used; its grant's id, or undefined when it was not usable. */
  useRefreshToken(hash: string, now: number): Promise<string | undefined>;
  findRefreshToken(hash: string): Promise<{ grant_id: string; used_at: number | null } | undefined>;
  findGrant(id: string): Promise<GrantFacts | undefined>;
  findConsent(id: string): Promise<ConsentFacts | undefined>;
  addRefreshToken(grantId: string, refresh: NewRefreshToken, now: number): Promise<void>;
}

/** What the exchange reads of a code. */
export interface CodeFacts {
  app_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  expires_at: number;
  consumed_at: number | null;
  grant_id: string | null;
}

/** What the token endpoint reads of a consent. */
export type ConsentFacts = Pick<ConsentRow, 'id' | 'user_id' | 'status' | 'delete_at'>;
export type GrantFacts = Pick<GrantRow, 'id' | 'app_id' | 'consent_id' | 'scopes' | 'expires_at' | 'revoked_at'>;

export interface NewGrant {
  id: string;
  app_id: string;
  consent_id: string;
  scopes: string;
  expires_at: number | null;
}

export interface NewRefreshToken {
  hash: string;
  expiresAt: number;
}

export function createTokenStore(db: Kysely<Database>): TokenStore {
  const database = databaseOf(db);
  if (database === undefined) throw new Error('the token store needs the Kysely instance of openDatabase()');
  switch (database.capabilities.dialect) {
    case 'sqlite':
      return new SqliteTokenStore(database);
    case 'postgres':
      return new PostgresTokenStore(database);
  }
}

const CONSENT_COLUMNS = ['id', 'user_id', 'status', 'delete_at'] as const;
const GRANT_COLUMNS = ['id', 'app_id', 'consent_id', 'scopes', 'expires_at', 'revoked_at'] as const;

/** The reads, compiled once (kept statements on SQLite, named statements on PostgreSQL). */
abstract class PreparedTokenReads implements Pick<TokenStore, 'findCode' | 'grantOfCode' | 'findRefreshToken' | 'findGrant' | 'findConsent'> {
  private readonly reads: ReturnType<typeof preparedReads>;

  constructor(protected readonly database: FerryDatabase) {
    this.reads = preparedReads(database);
  }

  async findCode(hash: string) {
    const row = await this.reads.codeWithConsent.first({ hash });
    if (row === undefined) return undefined;
    const { consent_id, consent_user_id, consent_status, consent_delete_at, ...code } = row;
    const consent = consent_id === null ? undefined : { id: consent_id, user_id: consent_user_id!, status: consent_status!, delete_at: consent_delete_at ?? null };
    return { code, consent };
  }

  async grantOfCode(hash: string) {
    return (await this.reads.codeGrant.first({ hash }))?.grant_id ?? null;
  }

  findRefreshToken(hash: string) {
    return this.reads.refreshToken.first({ hash });
  }

  findGrant(id: string) {
    return this.reads.grant.first({ id });
  }

  findConsent(id: string) {
    return this.reads.consent.first({ id });
  }
}

function preparedReads(database: FerryDatabase) {
  return {
    // The code and its consent in one read (one round trip on PostgreSQL); a left join, so that a
    // missing consent is told apart from a missing code, as the order of the checks wants.
    codeWithConsent: prepareQuery(database, (db, param: QueryParam<{ hash: string }>) =>
      db
        .selectFrom('authorization_codes as c')
        .leftJoin('consents as s', 's.id', 'c.consent_id')
        .select(['c.app_id', 'c.redirect_uri', 'c.scopes', 'c.code_challenge', 'c.expires_at', 'c.consumed_at', 'c.grant_id'])
        .select(['s.id as consent_id', 's.user_id as consent_user_id', 's.status as consent_status', 's.delete_at as consent_delete_at'])
        .where('c.hash', '=', param('hash')),
    ),
    codeGrant: prepareQuery(database, (db, param: QueryParam<{ hash: string }>) => db.selectFrom('authorization_codes').select('grant_id').where('hash', '=', param('hash'))),
    refreshToken: prepareQuery(database, (db, param: QueryParam<{ hash: string }>) =>
      db.selectFrom('refresh_tokens').select(['grant_id', 'used_at']).where('hash', '=', param('hash')),
    ),
    grant: prepareQuery(database, (db, param: QueryParam<{ id: string }>) => db.selectFrom('grants').select(GRANT_COLUMNS).where('id', '=', param('id'))),
    consent: prepareQuery(database, (db, param: QueryParam<{ id: string }>) => db.selectFrom('consents').select(CONSENT_COLUMNS).where('id', '=', param('id'))),
  };
}

/**
 * SQLite: the writes are synchronous better-sqlite3 calls on kept statements, run by the
 * database's group commit (one BEGIN … COMMIT for all the writes of an event-loop turn, each in
 * its own SAVEPOINT). SQLite has no writable CTEs, but needs none: the group's transaction holds
 * the write lock, and the work runs to its end without yielding, so UPDATE and INSERTs are atomic.
 */
class SqliteTokenStore extends PreparedTokenReads implements TokenStore {
  private statements: ReturnType<typeof sqliteStatements> | undefined;
  private readonly groupCommit: NonNullable<FerryDatabase['groupCommit']>;

  constructor(database: FerryDatabase) {
    super(database);
    if (database.groupCommit === undefined) throw new Error('SQLite token store without group commit');
    this.groupCommit = database.groupCommit;
  }

  private prepared(sqlite: SQLite.Database) {
    return (this.statements ??= sqliteStatements(sqlite));
  }

  consumeCode(hash: string, now: number, grant: NewGrant, refresh: NewRefreshToken): Promise<boolean> {
    return this.groupCommit((sqlite) => {
      const s = this.prepared(sqlite);
      if (s.consumeCode.run(now, grant.id, hash).changes !== 1) return false;
      s.insertGrant.run(grant.id, grant.app_id, grant.consent_id, grant.scopes, now, grant.expires_at);
      s.insertRefreshToken.run(refresh.hash, grant.id, now, refresh.expiresAt);
      return true;
    });
  }

  useRefreshToken(hash: string, now: number): Promise<string | undefined> {
    return this.groupCommit((sqlite) => (this.prepared(sqlite).useRefreshToken.get(now, hash, now) as { grant_id: string } | undefined)?.grant_id);
  }

  async addRefreshToken(grantId: string, refresh: NewRefreshToken, now: number): Promise<void> {
    await this.groupCommit((sqlite) => this.prepared(sqlite).insertRefreshToken.run(refresh.hash, grantId, now, refresh.expiresAt));
  }
}

function sqliteStatements(sqlite: SQLite.Database) {
  return {
    consumeCode: sqlite.prepare('update authorization_codes set consumed_at = ?, grant_id = ? where hash = ? and consumed_at is null'),
    insertGrant: sqlite.prepare(
      'insert into grants (id, app_id, consent_id, scopes, created_at, expires_at, revoked_at, revoked_reason) values (?, ?, ?, ?, ?, ?, null, null)',
    ),
    insertRefreshToken: sqlite.prepare('insert into refresh_tokens (hash, grant_id, created_at, expires_at) values (?, ?, ?, ?)'),
    useRefreshToken: sqlite.prepare('update refresh_tokens set used_at = ? where hash = ? and used_at is null and expires_at > ? returning grant_id'),
  };
}

/**
 * PostgreSQL: every write is one named statement (parsed and planned once per connection), and
 * the exchange's three writes are one statement too: no BEGIN/COMMIT round trips, and atomic all
 * the same. Under READ COMMITTED the loser of two concurrent exchanges waits for the winner's
 * row lock, re-checks `consumed_at is null` on the new row version and updates nothing, so its
 * CTE inserts nothing and returns no row.
 */
class PostgresTokenStore extends PreparedTokenReads implements TokenStore {
  private static readonly CONSUME_CODE = preparedSql(
    `with consumed as (
       update authorization_codes set consumed_at = $1::bigint, grant_id = $2::text
       where hash = $3::text and consumed_at is null
       returning app_id, consent_id, scopes
     ), created_grant as (
       insert into grants (id, app_id, consent_id, scopes, created_at, expires_at, revoked_at, revoked_reason)
       select $2::text, app_id, consent_id, scopes, $1::bigint, $4::bigint, null, null from consumed
       returning id
     )
     insert into refresh_tokens (hash, grant_id, created_at, expires_at)
     select $5::text, id, $1::bigint, $6::bigint from created_grant
     returning grant_id`,
  );
  private static readonly USE_REFRESH_TOKEN = preparedSql(
    'update refresh_tokens set used_at = $1::bigint where hash = $2::text and used_at is null and expires_at > $1::bigint returning grant_id',
  );
  private static readonly ADD_REFRESH_TOKEN = preparedSql('insert into refresh_tokens (hash, grant_id, created_at, expires_at) values ($1::text, $2::text, $3::bigint, $4::bigint)');

  async consumeCode(hash: string, now: number, grant: NewGrant, refresh: NewRefreshToken): Promise<boolean> {
    // The grant's app, consent and scopes come from the consumed code row itself: the values the
    // service checked (app_id) or read (consent, scopes); a code row changes only when consumed.
    const rows = await this.database.runPrepared(PostgresTokenStore.CONSUME_CODE, [now, grant.id, hash, grant.expires_at, refresh.hash, refresh.expiresAt]);
    return rows.length === 1;
  }

  async useRefreshToken(hash: string, now: number): Promise<string | undefined> {
    const rows = await this.database.runPrepared<{ grant_id: string }>(PostgresTokenStore.USE_REFRESH_TOKEN, [now, hash]);
    return rows[0]?.grant_id;
  }

  async addRefreshToken(grantId: string, refresh: NewRefreshToken, now: number): Promise<void> {
    await this.database.runPrepared(PostgresTokenStore.ADD_REFRESH_TOKEN, [refresh.hash, grantId, now, refresh.expiresAt]);
  }
}

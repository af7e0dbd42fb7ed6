import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db/schema.js';

/**
 * A deployment-wide secret kept in the database, created on first use: every process reads the
 * same one. (Insert-or-ignore, then read: two processes starting together agree on the winner.)
 */
export async function deploymentSecret(db: Kysely<Database>, name: string): Promise<Buffer> {
  const key = `secret:${name}`;
  await db
    .insertInto('settings')
    .values({ key, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64url');
}

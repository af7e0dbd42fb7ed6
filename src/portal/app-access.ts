import type { Kysely } from 'kysely';
import { findApp, listApps, type App } from '../apps/apps.js';
import type { Database } from '../db/schema.js';
import type { PortalUser } from './portal-user.js';

/**
 * Who sees which app: an operator every app; a developer the apps they own (`app_owners`, written
 * when they create one in the portal). An app the CLI created has no owner: operators only. Any
 * other app is "not found" to a developer (404), never "forbidden": its existence is not theirs to learn.
 */
export async function visibleApps(db: Kysely<Database>, user: PortalUser): Promise<App[]> {
  const apps = await listApps(db);
  if (user.isOperator) return apps;
  const owned = new Set((await db.selectFrom('app_owners').select('app_id').where('user_id', '=', user.id).execute()).map((r) => r.app_id));
  return apps.filter((a) => owned.has(a.id));
}

export async function findVisibleApp(db: Kysely<Database>, user: PortalUser, appId: string): Promise<App | undefined> {
  if (appId.length > 200) return undefined;
  if (!user.isOperator) {
    const owner = await db.selectFrom('app_owners').select('app_id').where('app_id', '=', appId).where('user_id', '=', user.id).executeTakeFirst();
    if (owner === undefined) return undefined;
  }
  return findApp(db, appId);
}

/** The apps' owners' ids (operators see who owns what). */
export async function ownersOf(db: Kysely<Database>, appIds: string[]): Promise<Map<string, number>> {
  if (appIds.length === 0) return new Map();
  const rows = await db.selectFrom('app_owners').select(['app_id', (eb) => eb.fn.countAll<number>().as('n')]).where('app_id', 'in', appIds).groupBy('app_id').execute();
  return new Map(rows.map((r) => [r.app_id, Number(r.n)]));
}

import type { Kysely } from 'kysely';
import { createApp, findApp } from '../apps/apps.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';

const DEMO_SETTING = 'demo_app';

export interface DemoCredentials {
  clientId: string;
  clientSecret: string;
}

export const DEMO_CALLBACK_PATH = '/demo/callback';

/**
 * The demo app of a first start: created when the database has no app at all, with its redirect
 * on a page Ferry serves. Its secret is kept (for the demo page's server-side code exchange),
 * which is why an operator turns the demo off (FERRY_DEMO=false) in production.
 */
export async function ensureDemoApp(db: Kysely<Database>, clock: Clock, publicUrl: string): Promise<{ credentials: DemoCredentials; created: boolean } | null> {
  const existing = await loadDemoCredentials(db);
  if (existing !== null && (await findApp(db, existing.clientId)) !== undefined) return { credentials: existing, created: false };
  const anyApp = await db.selectFrom('apps').select('id').limit(1).executeTakeFirst();
  if (anyApp !== undefined) return null;
  const { app, clientSecret } = await createApp(db, clock, {
    name: 'Ferry demo app',
    redirectUris: [`${publicUrl}${DEMO_CALLBACK_PATH}`],
    isDemo: true,
    brandColor: '#0b5cad',
  });
  const credentials = { clientId: app.id, clientSecret };
  await db
    .insertInto('settings')
    .values({ key: DEMO_SETTING, value: JSON.stringify(credentials) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(credentials) }))
    .execute();
  return { credentials, created: true };
}

export async function loadDemoCredentials(db: Kysely<Database>): Promise<DemoCredentials | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', DEMO_SETTING).executeTakeFirst();
  return row === undefined ? null : (JSON.parse(row.value) as DemoCredentials);
}

import type { Kysely } from 'kysely';
import { newId } from '../crypto.js';
import type { ConsentRow, Database } from '../db/schema.js';

export type ConsentStatus = 'Active' | 'Revoked' | 'Expired' | 'Deleted';

export interface NewConsent {
  appId: string;
  userId?: string;
  scopes: string;
  oneTime: boolean;
  providerId: string | null;
  groupId: string | null;
  groupName: string | null;
  now: number;
  /** One-time consents: how long until everything about them must be gone. */
  retentionMs: number;
}

/** Creates a consent; a one-time one carries its deletion deadline from this moment on. */
export async function createConsent(db: Kysely<Database>, input: NewConsent): Promise<ConsentRow> {
  const row: ConsentRow = {
    id: newId(),
    app_id: input.appId,
    user_id: input.userId ?? newId(),
    scopes: input.scopes,
    one_time: input.oneTime ? 1 : 0,
    provider_id: input.providerId,
    status: 'Active',
    group_id: input.groupId,
    group_name: input.groupName,
    created_at: input.now,
    delete_at: input.oneTime ? input.now + input.retentionMs : null,
    revoked_at: null,
    claimed_by: null,
  };
  await db.insertInto('consents').values(row).execute();
  return row;
}

import type { Kysely } from 'kysely';
import { randomToken, sha256 } from '../crypto.js';
import type { Database } from '../db/schema.js';

/** aiia-api.md §3: a code lives one minute and works once. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;

export interface NewAuthorizationCode {
  appId: string;
  consentId: string;
  redirectUri: string;
  scopes: string;
  codeChallenge: string | null;
  now: number;
}

/** Mints a random 256-bit code and stores only its hash, bound to client, redirect URI, scopes and PKCE challenge. */
export async function mintAuthorizationCode(db: Kysely<Database>, input: NewAuthorizationCode): Promise<string> {
  const code = randomToken(32);
  await db
    .insertInto('authorization_codes')
    .values({
      hash: sha256(code),
      app_id: input.appId,
      consent_id: input.consentId,
      redirect_uri: input.redirectUri,
      scopes: input.scopes,
      code_challenge: input.codeChallenge,
      created_at: input.now,
      expires_at: input.now + AUTHORIZATION_CODE_TTL_MS,
      consumed_at: null,
      grant_id: null,
    })
    .execute();
  return code;
}

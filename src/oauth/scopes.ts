/** The scopes Ferry knows (aiia-api.md §1): `accounts` (data), `offline_access` (continued access). */
export const KNOWN_SCOPES = ['accounts', 'offline_access'] as const;
export type Scope = (typeof KNOWN_SCOPES)[number];

/** `scopes` claim spelling of Aiia's tokens, e.g. "Accounts OfflineAccess". */
const CLAIM_NAMES: Record<Scope, string> = { accounts: 'Accounts', offline_access: 'OfflineAccess' };

export function scopesClaim(scopes: readonly Scope[]): string {
  return scopes.map((s) => CLAIM_NAMES[s]).join(' ');
}

export function parseScopeList(value: string): Scope[] {
  return value.split(' ').filter((s): s is Scope => (KNOWN_SCOPES as readonly string[]).includes(s));
}

export function formatScopes(scopes: readonly Scope[]): string {
  return KNOWN_SCOPES.filter((s) => scopes.includes(s)).join(' ');
}

/** One-time flow: `accounts` without `offline_access`. */
export function isOneTime(scopes: readonly Scope[]): boolean {
  return !scopes.includes('offline_access');
}

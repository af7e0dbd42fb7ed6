/**
 * The reserved app that holds what users keep for themselves (claimed one-time connections,
 * src/accounts/claim.ts): no secret (no client can authenticate as it), no redirect URIs (no flow
 * can start for it), no webhook; created on first use, and listed nowhere.
 */
export const KEPT_APP_ID = 'ferry';

/**
 * Builds the redirect back to the app (RFC 6749 §4.1.2): the parameters are appended to any query
 * the registered redirect URI already has, each properly percent-encoded, and `iss` is always
 * included (RFC 9207) so a client that talks to several servers can tell which one answered.
 */
export function buildAuthorizationRedirect(redirectUri: string, params: Record<string, string | null | undefined>): string {
  const query = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== null && entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  if (query === '') return redirectUri;
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query}`;
}

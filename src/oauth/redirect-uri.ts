/**
 * Redirect URI rules: what an app may register, and which registration a requested `redirect_uri`
 * matches (Aiia §6, RFC 6749 §3.1.2, RFC 9700 §2.1 and §4.1, RFC 8252 §7).
 *
 * Everything is checked on the raw string, split by hand (RFC 3986 Appendix B). `new URL()` is only an
 * extra sanity check: it silently "fixes" case, default ports, dot segments, tabs and backslashes, and a
 * fixed-up string is exactly what must not slip past a prefix check.
 *
 * Decisions:
 * - Canonical only. A registration must already be in RFC 3986 §6.2 normal form; it is refused (never
 *   silently fixed) with a reason saying what to change. A requested URI must pass the same checks, so
 *   matching then compares raw strings.
 * - Wildcards. `*` may appear only in the path (Aiia: "We do not support wildcard in domain and
 *   subdomain"). Each `*` matches one or more characters from the RFC 3986 unreserved set
 *   (`A-Z a-z 0-9 - . _ ~`) and `/`: it spans segments, so `https://mydomain.com/aiia-callback/*` is a
 *   catch-all for `/aiia-callback/tenant/42`. It never matches `%`, `;`, `@`, `\`, `?` or `#`, and the
 *   requested path may hold no `.`/`..` segments and no `//`, so a match cannot climb out of its prefix.
 * - Query. An exact registration matches only the identical string, query included. A wildcard
 *   registration with a query requires that exact query; a wildcard registration without one accepts
 *   any well-formed query (multi-tenant apps keep state there), except the names Ferry itself appends
 *   on the way back (`code`, `state`, `consentId`, `error`, …), which could otherwise be forged.
 * - Ports are compared exactly, loopback included: register each port you use (Aiia §6 matches the
 *   port; Ferry does not apply RFC 8252 §7.3's any-port rule for loopback).
 * - Native apps may register a private-use scheme in reverse-domain form with a single slash,
 *   e.g. `com.example.app:/callback` (RFC 8252 §7.1). A dot is required, which also keeps out
 *   `javascript:`, `data:`, `file:` and other single-word schemes.
 */

export type RedirectUriRegistration = { ok: true; uri: string } | { ok: false; reason: string };

export const MAX_REDIRECT_URI_LENGTH = 2000;

/** RFC 3986 Appendix B: scheme, authority, path, query, fragment, with no normalisation. */
const SPLIT = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;
/** RFC 3986 §2: every character a URI may hold. */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
/** RFC 3986 §3.3 pchar and "/", without ";" (path parameters are refused). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,=:@%/]*$/;
/** RFC 3986 §3.4. */
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
/** What one `*` may stand for: RFC 3986 §2.3 unreserved characters, and "/". */
const WILDCARD_CHAR = /^[A-Za-z0-9\-._~/]$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** Parameters Ferry adds to the redirect (Aiia §2, RFC 6749 §4.1.2, RFC 9207). */
const RESPONSE_PARAMS = new Set(['code', 'state', 'consentId', 'error', 'error_description', 'error_uri', 'iss']);

const WILDCARD_OUTSIDE_PATH =
  'Wildcards (*) are not allowed in the domain or subdomain, nor in the scheme, port, query or fragment; ' +
  'put * only in the path, e.g. https://mydomain.com/aiia-callback/*.';

type Mode = 'register' | 'request';
type UriParts = { scheme: string; authority: string | undefined; path: string; query: string | undefined };
type Checked = { ok: true; parts: UriParts } | { ok: false; reason: string };

/** Validates a URI an app wants to register. `reason` is a clear English sentence a developer can act on. */
export function validateRedirectUriRegistration(raw: string): RedirectUriRegistration {
  const checked = checkUri(raw, 'register');
  return checked.ok ? { ok: true, uri: raw } : { ok: false, reason: `Redirect URI refused: ${checked.reason}` };
}

/** Returns the registered URI (exactly as stored) that the requested redirect_uri matches, or null. */
export function matchRedirectUri(registered: readonly string[], requested: string): string | null {
  const request = checkUri(requested, 'request');
  if (!request.ok) return null;
  // Registrations are re-validated: a stored URI that is no longer acceptable matches nothing.
  const valid = registered.flatMap((uri) => {
    const checked = checkUri(uri, 'register');
    return checked.ok ? [{ uri, parts: checked.parts }] : [];
  });
  // RFC 9700 §2.1: exact string matching first; a wildcard only when no exact registration matches.
  const exact = valid.find((r) => r.uri === requested);
  if (exact) return exact.uri;
  const wildcard = valid.find((r) => r.parts.path.includes('*') && matchesWildcard(r.parts, request.parts));
  return wildcard ? wildcard.uri : null;
}

/** True when the URI is http(s) to localhost / 127.0.0.0/8 / [::1]. Non-canonical spellings are false. */
export function isLoopbackUri(uri: string): boolean {
  if (findCharacterProblem(uri) !== null) return false;
  const m = SPLIT.exec(uri);
  if (!m || (m[1] !== 'http' && m[1] !== 'https') || m[2] === undefined) return false;
  const authority = splitAuthority(m[2]);
  return authority !== null && isLoopbackHost(authority.host);
}

function checkUri(raw: string, mode: Mode): Checked {
  const fail = (reason: string): Checked => ({ ok: false, reason });
  if (raw.length > MAX_REDIRECT_URI_LENGTH) return fail(`shorten it to at most ${MAX_REDIRECT_URI_LENGTH} characters.`);
  const charProblem = findCharacterProblem(raw);
  if (charProblem) return fail(charProblem);
  const m = SPLIT.exec(raw);
  if (!m) return fail('it is not a URI.');
  const [, scheme, authority, path = '', query, fragment] = m;
  if (mode === 'request' && raw.includes('*')) return fail('a requested redirect URI cannot contain "*".');
  if ([scheme, authority, query, fragment].some((part) => part?.includes('*'))) return fail(WILDCARD_OUTSIDE_PATH);
  if (scheme === undefined) return fail('use an absolute URI that starts with https:// (RFC 6749 §3.1.2).');
  if (fragment !== undefined) return fail('remove the fragment (the "#" and what follows); RFC 6749 §3.1.2 forbids it.');

  const parts: UriParts = { scheme, authority, path, query };
  const problem = checkScheme(parts) ?? checkPath(path) ?? checkQuery(query);
  if (problem) return fail(problem);
  if (!agreesWithWhatwgUrl(raw, parts)) return fail('it is not a valid URL.');
  return { ok: true, parts };
}

/** RFC 3986 §2: ASCII only, no controls, spaces or backslashes; everything else percent-encoded. */
function findCharacterProblem(raw: string): string | null {
  if (raw.length === 0) return 'it is empty.';
  if (/\s/.test(raw)) return 'remove the whitespace (spaces, tabs, line breaks), also around the URI.';
  if (/[\x00-\x1f\x7f]/.test(raw)) return 'remove the control characters.';
  if (/[^\x00-\x7f]/.test(raw)) {
    return 'use ASCII only: write international domain names in punycode (xn--…) and percent-encode other characters.';
  }
  if (raw.includes('\\')) return 'replace the backslashes with forward slashes.';
  const other = [...raw].find((c) => !URI_CHARS.test(c));
  return other === undefined ? null : `percent-encode the character "${other}".`;
}

function checkScheme(parts: UriParts): string | null {
  const { scheme, authority } = parts;
  if (scheme !== scheme.toLowerCase()) return `write the scheme in lowercase ("${scheme.toLowerCase()}").`;
  if (scheme === 'https' || scheme === 'http') return checkWebAuthority(scheme, authority);
  // RFC 8252 §7.1: private-use schemes are reverse domain names, followed by a single slash.
  if (/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(scheme)) {
    return authority === undefined ? null : `use a single slash after a private-use scheme, e.g. ${scheme}:/callback (RFC 8252 §7.1).`;
  }
  return (
    `the scheme "${scheme}" is not allowed: use https (http only for localhost), ` +
    'or a reverse-domain private-use scheme for native apps such as com.example.app:/callback (RFC 8252 §7.1).'
  );
}

function checkWebAuthority(scheme: 'http' | 'https', authority: string | undefined): string | null {
  if (authority === undefined) return `write "${scheme}://" followed by the host.`;
  if (authority.includes('@')) {
    return 'remove the user information (the part up to "@"); credentials are not allowed (RFC 3986 §3.2.1).';
  }
  const split = splitAuthority(authority);
  if (!split) return 'the host and port are malformed.';
  const { host, port } = split;
  const hostProblem = checkHost(host);
  if (hostProblem) return hostProblem;
  if (scheme === 'http' && !isLoopbackHost(host)) {
    return 'use https; http is allowed only for localhost, 127.0.0.1 or [::1] (RFC 6749 §3.1.2.1, RFC 8252 §7.3).';
  }
  return port === undefined ? null : checkPort(scheme, port);
}

function splitAuthority(authority: string): { host: string; port: string | undefined } | null {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(authority);
  return m ? { host: m[1] ?? '', port: m[2] } : null;
}

/** RFC 3986 §3.2.2 and §6.2.2.1: lowercase, no trailing dot, IP literals in their one canonical spelling. */
function checkHost(host: string): string | null {
  if (host === '') return 'add a host name after "//".';
  if (host.startsWith('[')) {
    return isCanonicalIpv6(host) ? null : 'write the IPv6 address in its compressed lowercase form (RFC 5952), e.g. [::1].';
  }
  if (host !== host.toLowerCase()) return `write the host in lowercase ("${host.toLowerCase()}").`;
  if (host.endsWith('.')) return 'remove the trailing dot from the host.';
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host)) {
    return 'the host may contain only letters, digits, hyphens and single dots between labels.';
  }
  const labels = host.split('.');
  const last = labels[labels.length - 1] ?? '';
  // WHATWG URL reads any host whose last label is numeric as an IPv4 address (127.1, 0x7f.0.0.1, …).
  if (/^(\d+|0x[0-9a-f]*)$/.test(last) && !isCanonicalIpv4(host)) {
    return 'write an IP address as four decimal numbers without leading zeros, e.g. 127.0.0.1.';
  }
  if (host.length > 253 || labels.some((l) => l.length > 63 || l.startsWith('-') || l.endsWith('-'))) {
    return 'the host is not a valid domain name.';
  }
  return null;
}

/** RFC 3986 §6.2.3: no default port; otherwise a plain number. */
function checkPort(scheme: 'http' | 'https', port: string): string | null {
  if (port === '') return 'remove the empty port (the ":" after the host).';
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
    return 'write the port as a number from 1 to 65535 without leading zeros.';
  }
  if (port === (scheme === 'https' ? '443' : '80')) return `remove the default port ":${port}".`;
  return null;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || (isCanonicalIpv4(host) && host.startsWith('127.'));
}

function isCanonicalIpv4(host: string): boolean {
  const octets = host.split('.');
  return octets.length === 4 && octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);
}

function isCanonicalIpv6(host: string): boolean {
  if (!/^\[[0-9a-f:.]+\]$/.test(host)) return false;
  try {
    return new URL(`http://${host}/`).hostname === host;
  } catch {
    return false;
  }
}

/** RFC 3986 §3.3 and §6.2.2.3; RFC 9700 §4.1: nothing that could lead out of a registered prefix. */
function checkPath(path: string): string | null {
  if (!path.startsWith('/')) return 'add a path that starts with "/" (at least "/" after the host).';
  if (path.includes(';')) return 'remove the ";" path parameters from the path.';
  if (!PATH_CHARS.test(path)) return 'percent-encode the special characters in the path.';
  if (/%(2e|2f|5c)/i.test(path)) {
    return 'do not percent-encode dots, slashes or backslashes in the path (%2E, %2F, %5C).';
  }
  const encodingProblem = checkPercentEncoding(path);
  if (encodingProblem) return encodingProblem;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'remove the "." and ".." segments from the path (RFC 3986 §6.2.2.3).';
  }
  if (path.includes('//')) return 'remove the empty path segment ("//").';
  if (path.includes('**')) return 'use a single "*": one already matches one or more characters.';
  return null;
}

/** RFC 3986 §3.4; RFC 6749 §3.1.2 (the query is kept when Ferry appends its own parameters). */
function checkQuery(query: string | undefined): string | null {
  if (query === undefined) return null;
  if (query === '') return 'remove the "?" at the end, or add a query after it.';
  if (!QUERY_CHARS.test(query)) return 'percent-encode the special characters in the query.';
  const encodingProblem = checkPercentEncoding(query);
  if (encodingProblem) return encodingProblem;
  const taken = query.split('&').map((pair) => pair.split('=')[0] ?? '').find((name) => RESPONSE_PARAMS.has(name));
  return taken === undefined
    ? null
    : `remove the query parameter "${taken}": Ferry adds it when it redirects back, and two would be ambiguous.`;
}

/** RFC 3986 §2.1 and §6.2.2: two uppercase hex digits, no encoded controls, no encoded unreserved characters. */
function checkPercentEncoding(part: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(part)) return 'follow every "%" with two hex digits (write a literal % as %25).';
  for (const [escape] of part.matchAll(/%[0-9A-Fa-f]{2}/g)) {
    if (escape !== escape.toUpperCase()) return `write percent-encodings with uppercase hex digits ("${escape.toUpperCase()}").`;
    const code = parseInt(escape.slice(1), 16);
    if (code < 0x20 || code === 0x7f) return `remove the percent-encoded control character "${escape}".`;
    const char = String.fromCharCode(code);
    if (UNRESERVED.test(char)) return `write "${char}" instead of "${escape}" (RFC 3986 §6.2.2.2).`;
  }
  return null;
}

/** Sanity check only: the WHATWG parser must read the same scheme, host and path as the raw split. */
function agreesWithWhatwgUrl(raw: string, parts: UriParts): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === `${parts.scheme}:` && url.host === (parts.authority ?? '') && url.pathname === parts.path;
  } catch {
    return false;
  }
}

function matchesWildcard(registered: UriParts, requested: UriParts): boolean {
  if (registered.scheme !== requested.scheme || registered.authority !== requested.authority) return false;
  if (registered.query !== undefined && registered.query !== requested.query) return false;
  return pathMatchesPattern(registered.path, requested.path);
}

/**
 * Literal parts match exactly; each `*` matches one or more WILDCARD_CHARs. Computed as the set of
 * path positions reachable after each piece of the pattern: O(path × pattern), no regex backtracking.
 */
function pathMatchesPattern(pattern: string, path: string): boolean {
  let reachable: Uint8Array = new Uint8Array(path.length + 1);
  reachable[0] = 1;
  pattern.split('*').forEach((literal, index) => {
    if (index > 0) reachable = afterWildcard(reachable, path);
    reachable = afterLiteral(reachable, path, literal);
  });
  return reachable[path.length] === 1;
}

function afterLiteral(reachable: Uint8Array, path: string, literal: string): Uint8Array {
  const next = new Uint8Array(reachable.length);
  for (let i = 0; i + literal.length <= path.length; i++) {
    if (reachable[i] === 1 && path.startsWith(literal, i)) next[i + literal.length] = 1;
  }
  return next;
}

function afterWildcard(reachable: Uint8Array, path: string): Uint8Array {
  const next = new Uint8Array(reachable.length);
  let open = false; // some reachable start lies before j with only wildcard characters since
  for (let j = 1; j <= path.length; j++) {
    open = WILDCARD_CHAR.test(path.charAt(j - 1)) && (open || reachable[j - 1] === 1);
    if (open) next[j] = 1;
  }
  return next;
}

import { matchRedirectUri, validateRedirectUriRegistration } from '../oauth/redirect-uri.js';

/**
 * The CLI's redirect-URI rules (src/oauth/redirect-uri.ts), told to a developer: a headline that
 * names what is wrong, and the validator's own sentence on what to change. A `*` outside the path
 * gets its own headline per place it stands in (the validator has one sentence for all of them),
 * with the reason it is refused.
 */
export interface RefusedRedirect {
  headline: string;
  detail: string;
}

/** RFC 3986 Appendix B, as the validator splits. */
const SPLIT = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;

const WILDCARD_WHY =
  'A wildcard there would let addresses you do not control receive your users’ authorization codes, so Ferry (like Aiia) refuses it. Put the * in the path instead, e.g. https://budget.example.com/callback/*.';

export function explainRefusedRedirect(raw: string): RefusedRedirect | null {
  const result = validateRedirectUriRegistration(raw);
  if (result.ok) return null;
  const detail = sentence(result.reason.replace(/^Redirect URI refused: /, ''));
  const wildcard = wildcardPlace(raw);
  if (wildcard !== null) return { headline: `A wildcard (*) is not allowed in the ${wildcard}.`, detail: WILDCARD_WHY };
  return { headline: headlineFor(detail), detail };
}

function wildcardPlace(raw: string): string | null {
  if (!raw.includes('*')) return null;
  const m = SPLIT.exec(raw.trim());
  if (m === null) return null;
  const [, scheme, authority, , query, fragment] = m;
  if (scheme?.includes('*')) return 'scheme';
  if (authority?.includes('*')) {
    const port = /:([^:\]]*)$/.exec(authority)?.[1];
    if (port !== undefined && port.includes('*')) return 'port';
    const host = authority.replace(/:[^:\]]*$/, '');
    const labels = host.split('.');
    // *.example.com: the star stands for subdomains; anywhere else in the name, for the domain itself.
    const registrable = labels.slice(-2).join('.');
    return labels.length > 2 && !registrable.includes('*') ? 'subdomain' : 'domain name';
  }
  if (query?.includes('*')) return 'query';
  if (fragment?.includes('*')) return 'fragment';
  return null;
}

function headlineFor(detail: string): string {
  const d = detail.toLowerCase();
  if (d.includes('fragment')) return 'A redirect URL cannot have a fragment (#…).';
  if (d.includes('scheme') && d.includes('not allowed')) return 'This kind of address cannot receive a redirect.';
  if (d.includes('use https') || d.includes('http is allowed only')) return 'Plain http is allowed only for your own machine.';
  if (d.includes('user information') || d.includes('credentials')) return 'A redirect URL cannot hold a user name or password.';
  if (d.includes('absolute uri')) return 'Write the whole address, starting with https://.';
  if (d.includes('query parameter')) return 'This query parameter is reserved for Ferry’s answer.';
  if (d.includes('single "*"')) return 'One * is enough.';
  if (d.includes('port as a number')) return 'The port is not valid.';
  if (
    d.includes('lowercase') ||
    d.includes('default port') ||
    d.includes('trailing dot') ||
    d.includes('percent-encod') ||
    d.includes('segment') ||
    d.includes('leading zeros') ||
    d.includes('compressed') ||
    d.includes('whitespace') ||
    d.includes('ascii') ||
    d.includes('backslash') ||
    d.includes('empty port') ||
    d.includes('at the end') ||
    d.includes('instead of')
  ) {
    return 'The address is not in its canonical form.';
  }
  if (d.includes('host') || d.includes('port')) return 'The host or port is not valid.';
  if (d.includes('path')) return 'The path is not valid.';
  return 'This redirect URL is not valid.';
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return trimmed.length === 0 ? trimmed : trimmed[0]!.toUpperCase() + trimmed.slice(1);
}

export type TryResult =
  | { kind: 'match'; registration: string; exact: boolean }
  | { kind: 'no-match'; reason: string };

/** The "try it" box: would Ferry accept this `redirect_uri` at connect, and through which registration? */
export function tryRedirect(registered: readonly string[], requested: string): TryResult {
  const match = matchRedirectUri(registered, requested);
  if (match !== null) return { kind: 'match', registration: match, exact: match === requested };
  if (requested.includes('*')) return { kind: 'no-match', reason: 'A requested redirect_uri is a concrete address: it cannot contain *. Wildcards belong in the registrations.' };
  const asRegistration = validateRedirectUriRegistration(requested);
  if (!asRegistration.ok) {
    return { kind: 'no-match', reason: `Ferry would refuse it before matching: ${asRegistration.reason.replace(/^Redirect URI refused: /, '')}` };
  }
  const sameOrigin = registered.filter((r) => originOf(r) !== null && originOf(r) === originOf(requested));
  if (sameOrigin.length === 0) {
    return { kind: 'no-match', reason: 'No registration has this scheme, host and port: they must match exactly (a * is allowed only in the path).' };
  }
  return {
    kind: 'no-match',
    reason: `Registrations on this host (${sameOrigin.join(', ')}) differ in the path or query. An exact registration must equal the URL character for character; a * in a path matches one or more of A–Z a–z 0–9 - . _ ~ and /.`,
  };
}

function originOf(uri: string): string | null {
  const m = SPLIT.exec(uri);
  return m === null || m[1] === undefined ? null : `${m[1]}://${m[2] ?? ''}`;
}

import dns from 'node:dns';
import net from 'node:net';

/**
 * The SSRF guard of webhook delivery: a webhook URL is the app's to choose, so without a guard
 * Ferry could be made to POST into the operator's own network or a cloud metadata service.
 * Ferry resolves the host itself, refuses when any resolved address is not public (unless the
 * operator allows it), and connects to exactly the address it checked, so a DNS answer that
 * changes between check and connect (rebinding) cannot swap it.
 */

/** Where an address lies; everything but `public` is refused by default. */
export type AddressRange =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'shared'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'documentation'
  | 'reserved';

export interface AddressPolicy {
  /** Private, loopback, link-local, shared (CGNAT), unique-local and reserved ranges (FERRY_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Loopback only, and plain http to it (the sandbox). */
  allowLoopback: boolean;
}

/** Cloud metadata services: never a webhook receiver, whatever the policy says. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', 'fd00:ec2:0:0:0:0:0:254']);

/** IPv4 ranges that are not public (IANA special-purpose registry, RFC 6890), first match wins. */
const IPV4_RANGES: Array<[string, number, AddressRange]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'], // RFC 6598 carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/** Classifies an IP address (v4 or v6, IPv4 embedded in v6 by its IPv4 address). */
export function classifyAddress(address: string): AddressRange {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (net.isIPv4(ip)) return classifyIpv4(ipv4ToNumber(ip), ip);
  if (!net.isIPv6(ip)) return 'reserved';
  const words = ipv6Words(ip);
  if (METADATA_ADDRESSES.has(words.map((w) => w.toString(16)).join(':'))) return 'metadata';
  const [w0, w1, w2, w3, w4, w5] = words as [number, number, number, number, number, number, number, number];
  const embedded = ((words[6]! << 16) >>> 0) + words[7]!;
  const upperZero = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  if (upperZero && w5 === 0) return embedded === 0 ? 'unspecified' : embedded === 1 ? 'loopback' : 'reserved'; // ::, ::1, IPv4-compatible
  if (upperZero && w5 === 0xffff) return classifyIpv4(embedded); // IPv4-mapped ::ffff:a.b.c.d
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return classifyIpv4(embedded); // NAT64 (RFC 6052)
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 1) return 'private'; // local-use NAT64 (RFC 8215)
  if (w0 === 0x2002) return classifyIpv4(((w1 << 16) >>> 0) + w2); // 6to4 carries an IPv4 address
  if (w0 === 0x100 && w1 === 0 && w2 === 0 && w3 === 0) return 'reserved'; // discard-only
  if (w0 === 0x2001 && w1 === 0xdb8) return 'documentation';
  if (w0 === 0x2001 && w1 < 0x200) return 'reserved'; // 2001::/23 IETF protocol assignments (Teredo among them)
  if ((w0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((w0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((w0 & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((w0 & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

function classifyIpv4(value: number, dotted = numberToIpv4(value)): AddressRange {
  if (METADATA_ADDRESSES.has(dotted)) return 'metadata';
  for (const [base, bits, range] of IPV4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((value & mask) >>> 0) === ((ipv4ToNumber(base) & mask) >>> 0)) return range;
  }
  return 'public';
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) >>> 0) + Number(part), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The eight 16-bit words of an IPv6 address (handles `::` and a trailing dotted IPv4). */
function ipv6Words(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = ipv4ToNumber(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head === '' || head === undefined ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((w) => parseInt(w, 16));
}

/** Whether the policy lets Ferry connect to an address of this range. */
export function rangeAllowed(range: AddressRange, policy: AddressPolicy): boolean {
  if (range === 'public') return true;
  if (range === 'metadata') return false;
  if (range === 'loopback') return policy.allowLoopback || policy.allowPrivate;
  return policy.allowPrivate;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests pass their own). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A webhook URL Ferry will not deliver to; `reason` is safe to log and to show the app. */
export class WebhookTargetRefused extends Error {
  constructor(
    readonly reason: string,
    readonly host: string,
    readonly address: string | null,
    readonly range: AddressRange | null,
  ) {
    super(reason);
    this.name = 'WebhookTargetRefused';
  }
}

/** A checked place to connect to: the URL's host, and the one address the connection must use. */
export interface WebhookTarget {
  url: URL;
  /** The host as the URL names it (brackets removed): the TLS server name and the Host header. */
  host: string;
  address: string;
  family: 4 | 6;
  range: AddressRange;
}

/**
 * Checks a webhook URL and resolves its host: https only, except plain http to a loopback address
 * while loopback is allowed (the sandbox); every address the name resolves to must be allowed,
 * so a name that also points inside cannot slip through on a lucky pick.
 */
export async function resolveWebhookTarget(rawUrl: string, policy: AddressPolicy, resolver: HostResolver): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebhookTargetRefused('the webhook URL is not an absolute URL', '', null, null);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetRefused(`the webhook URL's scheme ${url.protocol} is not https`, host, null, null);
  if (url.username !== '' || url.password !== '') throw new WebhookTargetRefused('the webhook URL holds credentials', host, null, null);

  const addresses: ResolvedAddress[] = net.isIP(host) !== 0 ? [{ address: host, family: net.isIPv6(host) ? 6 : 4 }] : await resolveOrRefuse(resolver, host);
  if (addresses.length === 0) throw new WebhookTargetRefused(`${host} has no address`, host, null, null);
  let chosen: (ResolvedAddress & { range: AddressRange }) | undefined;
  for (const candidate of addresses) {
    const range = classifyAddress(candidate.address);
    if (!rangeAllowed(range, policy)) {
      throw new WebhookTargetRefused(`${host} resolves to ${candidate.address}, a ${range} address, which webhooks may not reach`, host, candidate.address, range);
    }
    chosen ??= { ...candidate, range };
  }
  const target = chosen!;
  // aiia-api.md §6 and issue #7: https, except loopback in the sandbox.
  if (url.protocol === 'http:' && !(target.range === 'loopback' && policy.allowLoopback && addresses.every((a) => classifyAddress(a.address) === 'loopback'))) {
    throw new WebhookTargetRefused('a webhook URL must use https (plain http only to loopback while the sandbox is on)', host, target.address, target.range);
  }
  return { url, host, address: target.address, family: target.family, range: target.range };
}

async function resolveOrRefuse(resolver: HostResolver, host: string): Promise<ResolvedAddress[]> {
  try {
    return await resolver(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Not a refusal of the URL for good: DNS may be back on the next try.
    throw new Error(`could not resolve ${host}${code ? ` (${code})` : ''}`);
  }
}

/**
 * A `lookup` for node:http that answers only the checked address: the socket connects where the
 * guard looked, whatever DNS says by then.
 */
export function pinnedLookup(target: WebhookTarget): net.LookupFunction {
  return ((_hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (options?.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as net.LookupFunction;
}

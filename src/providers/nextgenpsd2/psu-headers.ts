import { isIPv4, isIPv6 } from 'node:net';
import type { PsuContext } from '../types.js';

/**
 * The `PSU-*` headers of a call made while the user is present (Berlin Group: "It shall be
 * contained if and only if this request was actively initiated by the PSU"). Nothing is sent for a
 * background read, so the bank counts it against the consent's `frequencyPerDay`.
 */

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is `192.0.2.1`. */
export function psuIpAddress(psu: PsuContext | undefined, tppIpAddress: string | null): string | undefined {
  const raw = psu?.ipAddress?.trim();
  const address = raw?.toLowerCase().startsWith('::ffff:') && isIPv4(raw.slice(7)) ? raw.slice(7) : raw;
  if (address !== undefined && isIPv4(address)) return address;
  // The specification's format is IPv4; the TPP's own address is its answer when the user's is not known.
  if (tppIpAddress !== null) return tppIpAddress;
  return address !== undefined && isIPv6(address) ? address : undefined;
}

export function psuHeaders(psu: PsuContext | undefined, tppIpAddress: string | null): Record<string, string | undefined> {
  const method = psu?.httpMethod?.toUpperCase();
  return {
    'psu-ip-address': psuIpAddress(psu, tppIpAddress),
    'psu-ip-port': psu?.ipPort !== undefined ? String(psu.ipPort) : undefined,
    'psu-user-agent': clip(psu?.userAgent),
    'psu-accept': clip(psu?.accept),
    'psu-accept-charset': clip(psu?.acceptCharset),
    'psu-accept-encoding': clip(psu?.acceptEncoding),
    'psu-accept-language': clip(psu?.acceptLanguage),
    'psu-http-method': method !== undefined && HTTP_METHODS.has(method) ? method : undefined,
  };
}

/** Header values are forwarded as they came, within reason, and never with a line break. */
function clip(value: string | undefined): string | undefined {
  const clean = value?.replace(/[\r\n]+/g, ' ').trim().slice(0, 500);
  return clean === '' ? undefined : clean;
}

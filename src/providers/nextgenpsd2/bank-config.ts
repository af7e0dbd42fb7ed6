import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIPv4 } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../../config.js';
import { sandboxBankLogo } from '../sandbox/logos.js';
import type { ProviderStatus } from '../types.js';
import type { SigningCredentials } from './http-signature.js';
import { PSD2_UNATTENDED_READS_PER_DAY, SCA_APPROACHES, type ScaApproach } from './xs2a-model.js';

/**
 * The NextGenPSD2 banks an operator connects Ferry to, from one JSON file (`FERRY_XS2A_BANKS`):
 * adding a bank is an entry and a restart. The file is read and checked once, at start: every
 * problem is reported at once, naming the entry and the setting; certificates and keys are read,
 * parsed and matched here, and their contents never appear in a message or a log.
 *
 * ```json
 * { "tpp": { "ipAddress": "203.0.113.10",
 *            "qwac":  { "certificate": "qwac.pem",  "key": "qwac.key" },
 *            "qseal": { "certificate": "qseal.pem", "key": "qseal.key" } },
 *   "banks": [ { "id": "MusterbankDE", "name": "Musterbank", "country": "DE", "currency": "EUR",
 *                "baseUrl": "https://xs2a.musterbank.example/psd2", "approaches": ["REDIRECT"] } ] }
 * ```
 * Relative file names are read from the file's own folder. The README lists every setting.
 */

/** How the consent names the accounts: the user picks them at the bank, or all of them (`allPsd2`). */
export type ConsentScope = 'bankOffered' | 'allPsd2';

export interface Xs2aBank {
  id: string;
  name: string;
  country: string;
  currency: string;
  status: ProviderStatus;
  /** SVG markup Ferry serves as the bank's logo, and where (src/providers/routes.ts). */
  logoSvg: string;
  logoUrl: string;
  /** API root without trailing slash; operations are below it (`/v1/consents`). */
  baseUrl: string;
  /** What the bank offers, in Ferry's order of preference; the bank may still choose another. */
  approaches: ScaApproach[];
  consent: ConsentScope;
  features: { withBalance: boolean; bookingStatusBoth: boolean };
  /** Ask the user for their online-banking ID before a redirect (banks that require `PSU-ID`). */
  requirePsuId: boolean;
  /** Reads a day without the user to ask for (the bank may grant fewer). */
  frequencyPerDay: number;
  consentDays: number;
  historyDays: number;
  timeoutMs: number;
  /** Sent as `PSU-IP-Address` when the user's address is unknown or not IPv4. */
  tppIpAddress: string | null;
  /** The QWAC and its key (PEM, decrypted in memory only) for mutual TLS. */
  tls: { certificate: string; key: string } | null;
  serverCa: string | null;
  signing: SigningCredentials | null;
  /** Ferry's simulated bank: its sandbox "phone" link may be shown to the user. */
  sandbox: boolean;
}

interface KeyPairFile {
  certificate: string;
  key: string;
  passphraseFile?: string;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const COLOUR = /^#[0-9a-fA-F]{6}$/;
const BANK_KEYS = new Set([
  'id', 'name', 'country', 'currency', 'status', 'logo', 'colour', 'mark', 'baseUrl', 'approaches', 'consent', 'features',
  'requirePsuId', 'frequencyPerDay', 'consentDays', 'historyDays', 'timeoutSeconds', 'certificates',
]);
const CERTIFICATE_KEYS = new Set(['mtls', 'signature', 'serverCa', 'qwac', 'qseal']);
const FEATURE_KEYS = new Set(['withBalance', 'bookingStatusBoth']);
const TPP_KEYS = new Set(['ipAddress', 'qwac', 'qseal']);
const MAX_LOGO_BYTES = 100 * 1024;

export const XS2A_DEFAULTS = {
  consent: 'bankOffered' as ConsentScope,
  frequencyPerDay: PSD2_UNATTENDED_READS_PER_DAY,
  consentDays: 90,
  historyDays: 730,
  timeoutSeconds: 30,
};

/** Reads and checks the banks file; throws one `ConfigError` listing every problem. */
export function loadXs2aBanks(file: string): Xs2aBank[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`FERRY_XS2A_BANKS: cannot read ${file} (${(error as { code?: string }).code ?? 'error'})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`FERRY_XS2A_BANKS: ${file} is not JSON (${(error as Error).message})`]);
  }
  return parseXs2aBanks(json, { source: file, directory: path.dirname(path.resolve(file)) });
}

export function parseXs2aBanks(json: unknown, options: { source: string; directory: string }): Xs2aBank[] {
  const problems: string[] = [];
  const at = (where: string) => (message: string) => problems.push(`${options.source}: ${where}: ${message}`);
  const file = (name: string) => path.resolve(options.directory, name);
  if (!isRecord(json) || !Array.isArray(json.banks)) {
    throw new ConfigError([`${options.source}: must be an object with a "banks" list`]);
  }
  for (const key of Object.keys(json)) if (key !== 'banks' && key !== 'tpp') at('top level')(`unknown setting "${key}"`);

  const tppRaw = json.tpp === undefined ? {} : json.tpp;
  const tppProblem = at('tpp');
  let tppIp: string | null = null;
  let tppQwac: KeyPairFile | null = null;
  let tppQseal: KeyPairFile | null = null;
  if (!isRecord(tppRaw)) tppProblem('must be an object');
  else {
    unknownKeys(tppRaw, TPP_KEYS, tppProblem);
    if (tppRaw.ipAddress !== undefined) {
      if (typeof tppRaw.ipAddress === 'string' && isIPv4(tppRaw.ipAddress)) tppIp = tppRaw.ipAddress;
      else tppProblem('ipAddress must be an IPv4 address (the address Ferry’s requests leave from)');
    }
    tppQwac = keyPairFile(tppRaw.qwac, at('tpp.qwac'));
    tppQseal = keyPairFile(tppRaw.qseal, at('tpp.qseal'));
  }

  const banks: Xs2aBank[] = [];
  const ids = new Set<string>();
  const loaded = new Map<string, unknown>();
  json.banks.forEach((raw: unknown, index: number) => {
    const label = isRecord(raw) && typeof raw.id === 'string' ? `banks[${index}] (${raw.id})` : `banks[${index}]`;
    const problem = at(label);
    if (!isRecord(raw)) return problem('must be an object');
    unknownKeys(raw, BANK_KEYS, problem);
    const count = problems.length;

    const id = str(raw.id);
    if (id === null || !ID.test(id)) problem('id must be 1 to 100 letters, digits, "-" or "_"');
    // Case-insensitively: the logo's file name is the id in lower case.
    else if (ids.has(id.toLowerCase())) problem(`id ${id} is used twice`);
    else ids.add(id.toLowerCase());
    const name = str(raw.name)?.trim() ?? '';
    if (name === '' || name.length > 100) problem('name must be 1 to 100 characters');
    const country = str(raw.country);
    if (country === null || !/^[A-Z]{2}$/.test(country)) problem('country must be an ISO 3166-1 code such as "DE"');
    const currency = str(raw.currency);
    if (currency === null || !/^[A-Z]{3}$/.test(currency)) problem('currency must be an ISO 4217 code such as "EUR"');
    const status = raw.status ?? 'Up';
    if (status !== 'Up' && status !== 'Degraded' && status !== 'Down') problem('status must be "Up", "Degraded" or "Down"');

    const baseUrl = checkBaseUrl(raw.baseUrl, problem);
    const approaches = Array.isArray(raw.approaches) ? raw.approaches : [];
    if (approaches.length === 0 || !approaches.every((a) => SCA_APPROACHES.includes(a as ScaApproach)) || new Set(approaches).size !== approaches.length) {
      problem(`approaches must list one or more of ${SCA_APPROACHES.join(', ')}, each once`);
    }
    const consent = raw.consent ?? XS2A_DEFAULTS.consent;
    if (consent !== 'bankOffered' && consent !== 'allPsd2') problem('consent must be "bankOffered" or "allPsd2"');
    // Implementation Guidelines §6.3: a bank-offered consent is not supported with the embedded approach.
    else if (consent === 'bankOffered' && approaches.includes('EMBEDDED')) problem('the embedded approach needs "consent": "allPsd2" (a bank-offered consent is not allowed with it)');

    const features = raw.features ?? {};
    if (!isRecord(features)) problem('features must be an object');
    else {
      unknownKeys(features, FEATURE_KEYS, at(`${label}.features`));
      for (const key of FEATURE_KEYS) if (features[key] !== undefined && typeof features[key] !== 'boolean') problem(`features.${key} must be true or false`);
    }
    const feature = (key: string, fallback: boolean) => (isRecord(features) && typeof features[key] === 'boolean' ? (features[key] as boolean) : fallback);
    if (raw.requirePsuId !== undefined && typeof raw.requirePsuId !== 'boolean') problem('requirePsuId must be true or false');

    const frequencyPerDay = integer(raw.frequencyPerDay, XS2A_DEFAULTS.frequencyPerDay, 1, 24, 'frequencyPerDay', problem);
    const consentDays = integer(raw.consentDays, XS2A_DEFAULTS.consentDays, 1, 730, 'consentDays', problem);
    const historyDays = integer(raw.historyDays, XS2A_DEFAULTS.historyDays, 1, 730, 'historyDays', problem);
    const timeoutSeconds = integer(raw.timeoutSeconds, XS2A_DEFAULTS.timeoutSeconds, 1, 120, 'timeoutSeconds', problem);

    // --- certificates ---
    const certificates = raw.certificates ?? {};
    let tls: Xs2aBank['tls'] = null;
    let signing: SigningCredentials | null = null;
    let serverCa: string | null = null;
    if (!isRecord(certificates)) problem('certificates must be an object');
    else {
      const cp = at(`${label}.certificates`);
      unknownKeys(certificates, CERTIFICATE_KEYS, cp);
      const https = baseUrl?.startsWith('https:') ?? true;
      const mtls = certificates.mtls ?? https;
      const sign = certificates.signature ?? false;
      if (typeof mtls !== 'boolean') cp('mtls must be true or false');
      if (typeof sign !== 'boolean') cp('signature must be true or false');
      if (mtls === true && !https) cp('mtls needs an https baseUrl');
      const qwacFile = certificates.qwac === undefined ? tppQwac : keyPairFile(certificates.qwac, at(`${label}.certificates.qwac`));
      const qsealFile = certificates.qseal === undefined ? tppQseal : keyPairFile(certificates.qseal, at(`${label}.certificates.qseal`));
      if (mtls === true) {
        if (qwacFile === null) cp('mtls needs a QWAC: set tpp.qwac or certificates.qwac');
        else {
          const pair = loadKeyPair(qwacFile, file, cp, 'QWAC', loaded);
          if (pair !== null) tls = { certificate: pair.pem, key: pair.key.export({ type: 'pkcs8', format: 'pem' }).toString() };
        }
      }
      if (sign === true) {
        if (qsealFile === null) cp('signature needs a QSealC: set tpp.qseal or certificates.qseal');
        else {
          const pair = loadKeyPair(qsealFile, file, cp, 'QSealC', loaded);
          if (pair !== null) signing = { key: pair.key, certificate: pair.certificate };
        }
      }
      if (certificates.serverCa !== undefined) {
        if (typeof certificates.serverCa !== 'string') cp('serverCa must be a file name');
        else serverCa = readPem(file(certificates.serverCa), cp, 'serverCa');
      }
    }

    // --- logo ---
    let logoSvg = '';
    if (raw.colour !== undefined && (typeof raw.colour !== 'string' || !COLOUR.test(raw.colour))) problem('colour must be like "#1f4e8c"');
    if (raw.mark !== undefined && (typeof raw.mark !== 'string' || !/^[\p{L}\p{N}]{1,3}$/u.test(raw.mark))) problem('mark must be 1 to 3 letters or digits');
    if (raw.logo !== undefined) {
      if (typeof raw.logo !== 'string') problem('logo must be the name of an SVG file');
      else logoSvg = readLogo(file(raw.logo), problem);
    } else if (name !== '') {
      logoSvg = sandboxBankLogo({ name, colour: typeof raw.colour === 'string' && COLOUR.test(raw.colour) ? raw.colour : '#334155', mark: typeof raw.mark === 'string' ? raw.mark : initials(name) });
    }

    if (problems.length > count) return;
    banks.push({
      id: id!,
      name,
      country: country!,
      currency: currency!,
      status: status as ProviderStatus,
      logoSvg,
      logoUrl: `/assets/banks/${id!.toLowerCase()}.svg`,
      baseUrl: baseUrl!,
      approaches: approaches as ScaApproach[],
      consent: consent as ConsentScope,
      features: { withBalance: feature('withBalance', false), bookingStatusBoth: feature('bookingStatusBoth', true) },
      requirePsuId: raw.requirePsuId === true,
      frequencyPerDay,
      consentDays,
      historyDays,
      timeoutMs: timeoutSeconds * 1000,
      tppIpAddress: tppIp,
      tls,
      serverCa,
      signing,
      sandbox: false,
    });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return banks;
}

/** The HTTP agent a bank's calls go through: mutual TLS with the QWAC, keep-alive. */
export function bankAgent(bank: Pick<Xs2aBank, 'baseUrl' | 'tls' | 'serverCa'>): http.Agent {
  if (!bank.baseUrl.startsWith('https:')) return new http.Agent({ keepAlive: true, maxSockets: 16 });
  return new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ...(bank.tls !== null ? { cert: bank.tls.certificate, key: bank.tls.key } : {}),
    ...(bank.serverCa !== null ? { ca: bank.serverCa } : {}),
  });
}

function checkBaseUrl(raw: unknown, problem: (m: string) => void): string | null {
  const text = str(raw);
  const message = 'baseUrl must be the bank’s https API root without query, e.g. "https://xs2a.bank.example/psd2" (http only on loopback)';
  if (text === null || !URL.canParse(text)) {
    problem(message);
    return null;
  }
  const url = new URL(text);
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if ((url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) || url.search !== '' || url.hash !== '' || url.username !== '') {
    problem(message);
    return null;
  }
  return text.replace(/\/+$/, '');
}

function keyPairFile(raw: unknown, problem: (m: string) => void): KeyPairFile | null {
  if (raw === undefined) return null;
  if (!isRecord(raw) || typeof raw.certificate !== 'string' || typeof raw.key !== 'string' || (raw.passphraseFile !== undefined && typeof raw.passphraseFile !== 'string')) {
    problem('must be { "certificate": file, "key": file } (and "passphraseFile" for an encrypted key)');
    return null;
  }
  unknownKeys(raw, new Set(['certificate', 'key', 'passphraseFile']), problem);
  return { certificate: raw.certificate, key: raw.key, ...(typeof raw.passphraseFile === 'string' ? { passphraseFile: raw.passphraseFile } : {}) };
}

/** Reads a certificate and its key; checks they belong together and the certificate is valid now. */
function loadKeyPair(
  pair: KeyPairFile,
  file: (name: string) => string,
  problem: (m: string) => void,
  what: string,
  cache: Map<string, unknown>,
): { pem: string; certificate: X509Certificate; key: KeyObject } | null {
  const cacheKey = JSON.stringify(pair);
  if (cache.has(cacheKey)) return cache.get(cacheKey) as ReturnType<typeof loadKeyPair>;
  const pem = readPem(file(pair.certificate), problem, `${what} certificate`);
  const keyPem = readPem(file(pair.key), problem, `${what} key`);
  const passphrase = pair.passphraseFile === undefined ? undefined : readText(file(pair.passphraseFile), problem, `${what} passphrase`)?.trim();
  if (pem === null || keyPem === null || passphrase === null) return null;
  let certificate: X509Certificate;
  let key: KeyObject;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    problem(`${what} certificate ${file(pair.certificate)} is not a PEM certificate`);
    return null;
  }
  try {
    key = createPrivateKey(passphrase === undefined ? keyPem : { key: keyPem, passphrase });
  } catch {
    problem(`${what} key ${file(pair.key)} cannot be read (not a PEM private key, or a wrong passphrase)`);
    return null;
  }
  if (!certificate.checkPrivateKey(key)) {
    problem(`${what} key ${file(pair.key)} does not belong to the certificate ${file(pair.certificate)}`);
    return null;
  }
  if (Date.parse(certificate.validTo) < Date.now()) {
    problem(`${what} certificate ${file(pair.certificate)} expired on ${certificate.validTo}`);
    return null;
  }
  const result = { pem, certificate, key };
  cache.set(cacheKey, result);
  return result;
}

function readText(name: string, problem: (m: string) => void, what: string): string | null {
  try {
    return fs.readFileSync(name, 'utf8');
  } catch (error) {
    problem(`${what}: cannot read ${name} (${(error as { code?: string }).code ?? 'error'})`);
    return null;
  }
}

function readPem(name: string, problem: (m: string) => void, what: string): string | null {
  const text = readText(name, problem, what);
  if (text !== null && !text.includes('-----BEGIN ')) {
    problem(`${what}: ${name} is not PEM`);
    return null;
  }
  return text;
}

/** An operator's logo: plain SVG without script, event handlers or outside references (served from Ferry's origin). */
function readLogo(name: string, problem: (m: string) => void): string {
  const svg = readText(name, problem, 'logo')?.trim();
  if (svg === undefined || svg === null) return '';
  if (Buffer.byteLength(svg) > MAX_LOGO_BYTES || !/^(<\?xml[^>]*\?>\s*)?<svg[\s>]/.test(svg) || /<script|<foreignObject|\bon\w+\s*=|(?:href|src)\s*=\s*["']?(?!#)/i.test(svg)) {
    problem(`logo ${name} must be a self-contained SVG under 100 kB: no script, event handlers or links to other files`);
    return '';
  }
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '');
}

function unknownKeys(raw: Record<string, unknown>, known: ReadonlySet<string>, problem: (m: string) => void): void {
  for (const key of Object.keys(raw)) if (!known.has(key)) problem(`unknown setting "${key}"`);
}

function integer(raw: unknown, fallback: number, min: number, max: number, name: string, problem: (m: string) => void): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problem(`${name} must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return raw;
}

function initials(name: string): string {
  const letters = name.split(/\s+/).map((word) => word.match(/[\p{L}\p{N}]/u)?.[0] ?? '').join('');
  return (letters === '' ? 'B' : letters).slice(0, 2).toUpperCase();
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

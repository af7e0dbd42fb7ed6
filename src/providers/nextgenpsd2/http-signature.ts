import { X509Certificate, createHash, sign, verify, type KeyObject } from 'node:crypto';

/**
 * NextGenPSD2 message signatures (Implementation Guidelines §12, after draft-cavage-http-signatures-10):
 * the TPP seals a request with its QSealC. `Digest` is the SHA-256 of the body; `Signature` signs the
 * lines `name: value` of the listed headers; `TPP-Signature-Certificate` carries the certificate
 * (base64 DER). Banks that ask for signatures refuse requests without them.
 */

export interface SigningCredentials {
  key: KeyObject;
  certificate: X509Certificate;
}

/** Signed when present, in this order; `digest`, `x-request-id` and `date` always are. */
const SIGNED_HEADERS = ['digest', 'x-request-id', 'date', 'psu-id', 'psu-corporate-id', 'tpp-redirect-uri'] as const;

export function digestOf(body: string): string {
  return `SHA-256=${createHash('sha256').update(body, 'utf8').digest('base64')}`;
}

/**
 * `keyId` as the guidelines show it: the certificate's serial number and its issuer's distinguished
 * name, most specific part first (`SN=9FA1,CA=CN=D-TRUST%20CA%202-1%202015,O=D-Trust%20GmbH,C=DE`).
 */
export function signatureKeyId(certificate: X509Certificate): string {
  const issuer = certificate.issuer.split('\n').reverse().join(',').replace(/ /g, '%20');
  return `SN=${certificate.serialNumber},CA=${issuer}`;
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'rsa-sha256';
  if (key.asymmetricKeyType === 'ec') return 'ecdsa-sha256';
  throw new Error(`a ${key.asymmetricKeyType ?? 'symmetric'} key cannot sign NextGenPSD2 requests (RSA or EC)`);
}

function signingString(headers: Record<string, string | undefined>, names: readonly string[]): string {
  return names.map((name) => `${name}: ${headers[name] ?? ''}`).join('\n');
}

/**
 * The headers that seal a request: `Digest`, `Signature` and `TPP-Signature-Certificate`, to add to
 * `headers` (lower-case names, `x-request-id` and `date` already set).
 */
export function signatureHeaders(headers: Record<string, string | undefined>, body: string, credentials: SigningCredentials): Record<string, string> {
  const digest = digestOf(body);
  const withDigest: Record<string, string | undefined> = { ...headers, digest };
  const names = SIGNED_HEADERS.filter((name) => withDigest[name] !== undefined);
  const algorithm = algorithmOf(credentials.key);
  const signature = sign('sha256', Buffer.from(signingString(withDigest, names), 'utf8'), credentials.key).toString('base64');
  return {
    digest,
    signature: `keyId="${signatureKeyId(credentials.certificate)}",algorithm="${algorithm}",headers="${names.join(' ')}",signature="${signature}"`,
    'tpp-signature-certificate': credentials.certificate.raw.toString('base64'),
  };
}

export type SignatureVerdict =
  | { ok: true; certificate: X509Certificate }
  | { ok: false; code: 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'CERTIFICATE_INVALID' | 'CERTIFICATE_EXPIRED'; reason: string };

/**
 * Checks a sealed request as a bank does: the digest matches the body, the signature covers the
 * headers it must and verifies with the certificate sent, which is valid now and, when `issuers`
 * are given, issued by one of them.
 */
export function verifySignature(
  headers: Record<string, string | undefined>,
  body: string,
  options: { now: number; issuers?: readonly X509Certificate[] },
): SignatureVerdict {
  const header = headers.signature;
  const certificateHeader = headers['tpp-signature-certificate'];
  if (header === undefined || headers.digest === undefined || certificateHeader === undefined) {
    return { ok: false, code: 'SIGNATURE_MISSING', reason: 'Signature, Digest and TPP-Signature-Certificate are required' };
  }
  if (headers.digest !== digestOf(body)) return { ok: false, code: 'SIGNATURE_INVALID', reason: 'the digest does not match the body' };
  const params = new Map<string, string>();
  for (const match of header.matchAll(/([A-Za-z]+)="([^"]*)"/g)) params.set(match[1]!, match[2]!);
  const names = (params.get('headers') ?? '').toLowerCase().split(' ').filter((n) => n !== '');
  if (!names.includes('digest') || !names.includes('x-request-id')) return { ok: false, code: 'SIGNATURE_INVALID', reason: 'the signature must cover digest and x-request-id' };
  for (const name of ['psu-id', 'psu-corporate-id', 'tpp-redirect-uri']) {
    if (headers[name] !== undefined && !names.includes(name)) return { ok: false, code: 'SIGNATURE_INVALID', reason: `the signature must cover ${name}` };
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(certificateHeader, 'base64'));
  } catch {
    return { ok: false, code: 'CERTIFICATE_INVALID', reason: 'TPP-Signature-Certificate is not a certificate' };
  }
  if (Date.parse(certificate.validFrom) > options.now || Date.parse(certificate.validTo) < options.now) {
    return { ok: false, code: 'CERTIFICATE_EXPIRED', reason: 'the signing certificate is not valid now' };
  }
  if (options.issuers !== undefined && !options.issuers.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) {
    return { ok: false, code: 'CERTIFICATE_INVALID', reason: 'the signing certificate is not issued by a trusted authority' };
  }
  if (params.get('keyId') !== signatureKeyId(certificate)) return { ok: false, code: 'SIGNATURE_INVALID', reason: 'keyId does not name the certificate sent' };
  const signature = Buffer.from(params.get('signature') ?? '', 'base64');
  const valid = verify('sha256', Buffer.from(signingString(headers, names), 'utf8'), certificate.publicKey, signature);
  return valid ? { ok: true, certificate } : { ok: false, code: 'SIGNATURE_INVALID', reason: 'the signature does not verify' };
}

import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { digestOf, signatureHeaders, signatureKeyId, verifySignature, type SigningCredentials } from '../../../src/providers/nextgenpsd2/http-signature.js';
import { createTestCertificates, type TestCertificates } from './certificates.js';

describe('NextGenPSD2 message signatures (Implementation Guidelines §12, draft-cavage-http-signatures-10)', () => {
  let certs: TestCertificates;
  let credentials: SigningCredentials;
  let ca: X509Certificate;
  let stranger: SigningCredentials;

  before(() => {
    certs = createTestCertificates();
    credentials = { key: createPrivateKey(certs.read(certs.qseal.key)), certificate: new X509Certificate(certs.read(certs.qseal.certificate)) };
    stranger = { key: createPrivateKey(certs.read(certs.stranger.key)), certificate: new X509Certificate(certs.read(certs.stranger.certificate)) };
    ca = new X509Certificate(certs.read(certs.ca));
  });
  after(() => certs.remove());

  const base = (): Record<string, string> => ({ 'x-request-id': '99391c7e-ad88-49ec-a2ad-99ddcb1f7721', date: 'Thu, 15 Jan 2026 12:00:00 GMT', 'psu-id': 'PSU-1234', 'tpp-redirect-uri': 'https://ferry.example.com/flow/x/callback' });
  const body = JSON.stringify({ access: { balances: [], transactions: [] } });

  test('Digest is SHA-256 of the body, base64 (RFC 3230)', () => {
    assert.equal(digestOf(''), 'SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  test('a sealed request verifies, and covers digest, x-request-id, date, psu-id and tpp-redirect-uri', () => {
    const headers = { ...base(), ...signatureHeaders(base(), body, credentials) };
    assert.match(headers.signature ?? '', /^keyId="SN=[0-9A-F]+,CA=CN=Ferry%20Test%20QTSP%20CA,O=Ferry%20Test%20Trust%20Services,C=DE",algorithm="rsa-sha256",headers="digest x-request-id date psu-id tpp-redirect-uri",signature="[A-Za-z0-9+/=]+"$/);
    assert.equal(new X509Certificate(Buffer.from(headers['tpp-signature-certificate'] ?? '', 'base64')).fingerprint256, credentials.certificate.fingerprint256);
    const verdict = verifySignature(headers, body, { now: Date.now(), issuers: [ca] });
    assert.equal(verdict.ok, true);
    assert.equal(signatureKeyId(credentials.certificate).startsWith(`SN=${credentials.certificate.serialNumber},`), true);
  });

  test('a bank refuses what was changed, left out or sealed by someone it does not trust', () => {
    const headers = { ...base(), ...signatureHeaders(base(), body, credentials) };
    const code = (h: Record<string, string | undefined>, b = body, issuers: X509Certificate[] = [ca]) => {
      const verdict = verifySignature(h, b, { now: Date.now(), issuers });
      return verdict.ok ? 'ok' : verdict.code;
    };
    assert.equal(code(headers, body.replace('balances', 'payments')), 'SIGNATURE_INVALID');
    assert.equal(code({ ...headers, 'psu-id': 'PSU-9999' }), 'SIGNATURE_INVALID');
    assert.equal(code({ ...headers, 'x-request-id': '00000000-0000-4000-8000-000000000000' }), 'SIGNATURE_INVALID');
    assert.equal(code({ ...headers, signature: undefined }), 'SIGNATURE_MISSING');
    assert.equal(code({ ...headers, 'tpp-signature-certificate': 'bm90IGEgY2VydA==' }), 'CERTIFICATE_INVALID');
    const foreign = { ...base(), ...signatureHeaders(base(), body, stranger) };
    assert.equal(code(foreign), 'CERTIFICATE_INVALID');
    assert.equal(code(foreign, body, []), 'CERTIFICATE_INVALID');
    const unsignedRedirect = { ...headers, 'tpp-redirect-uri': 'https://evil.example/' };
    assert.equal(code(unsignedRedirect), 'SIGNATURE_INVALID');
    assert.equal(verifySignature(headers, body, { now: Date.now() + 20 * 365 * 86_400_000, issuers: [ca] }).ok, false);
  });
});

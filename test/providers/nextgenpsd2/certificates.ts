import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Throwaway certificates for the tests, made with the machine's `openssl`: a CA standing for a
 * qualified trust service, the simulated bank's server certificate (localhost), and the TPP's QWAC
 * (TLS client) and QSealC (signatures), as an operator would hold them, in files.
 */
export interface TestCertificates {
  dir: string;
  ca: string;
  server: { certificate: string; key: string };
  qwac: { certificate: string; key: string };
  qseal: { certificate: string; key: string };
  /** A client certificate from another CA: the bank must refuse it. */
  stranger: { certificate: string; key: string };
  read(file: string): string;
  remove(): void;
}

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

function issue(cwd: string, name: string, subject: string, ca: string, extensions: string): void {
  openssl(cwd, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  fs.writeFileSync(path.join(cwd, `${name}.ext`), extensions);
  openssl(cwd, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

export function createTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-xs2a-certs-'));
  for (const ca of ['ca', 'stranger-ca']) {
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '3650', '-subj', `/C=DE/O=Ferry Test Trust Services/CN=${ca === 'ca' ? 'Ferry Test QTSP CA' : 'Somebody Else CA'}`);
  }
  issue(dir, 'server', '/C=DE/O=Sandbox Bank/CN=localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'qwac', '/C=DK/O=Example Budget ApS/organizationIdentifier=PSDDK-DFSA-12345678/CN=ferry.example.com', 'ca', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'qseal', '/C=DK/O=Example Budget ApS/organizationIdentifier=PSDDK-DFSA-12345678/CN=Example Budget ApS', 'ca', 'keyUsage=digitalSignature,nonRepudiation\n');
  issue(dir, 'stranger', '/C=DK/O=Nobody/CN=nobody.example.com', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const pair = (name: string) => ({ certificate: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) });
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    server: pair('server'),
    qwac: pair('qwac'),
    qseal: pair('qseal'),
    stranger: pair('stranger'),
    read: (file) => fs.readFileSync(file, 'utf8'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

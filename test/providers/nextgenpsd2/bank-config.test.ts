import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { loadXs2aBanks, parseXs2aBanks } from '../../../src/providers/nextgenpsd2/bank-config.js';
import { buildServer } from '../../../src/server.js';
import { createTestDatabase } from '../../helpers/database.js';
import { createTestCertificates, type TestCertificates } from './certificates.js';

/**
 * The operator's banks file (`FERRY_XS2A_BANKS`): a bank is an entry; every mistake is reported at
 * start, all at once, naming the entry and the setting, and never quoting a key.
 */
describe('NextGenPSD2 banks file', () => {
  let certs: TestCertificates;
  const bank = (extra: Record<string, unknown> = {}) => ({ id: 'MusterbankDE', name: 'Musterbank', country: 'DE', currency: 'EUR', baseUrl: 'https://xs2a.musterbank.example/psd2/', approaches: ['REDIRECT'], ...extra });
  const tpp = { ipAddress: '203.0.113.10', qwac: { certificate: 'qwac.pem', key: 'qwac.key' }, qseal: { certificate: 'qseal.pem', key: 'qseal.key' } };
  const parse = (json: unknown) => parseXs2aBanks(json, { source: 'banks.json', directory: certs.dir });
  const problems = (json: unknown): string[] => {
    try {
      parse(json);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail('the file was accepted');
  };
  before(() => {
    certs = createTestCertificates();
  });
  after(() => certs.remove());

  test('a minimal entry: defaults as documented, the QWAC for mutual TLS, a generated logo', () => {
    const [musterbank] = parse({ tpp, banks: [bank()] });
    assert.ok(musterbank);
    assert.equal(musterbank.baseUrl, 'https://xs2a.musterbank.example/psd2');
    assert.equal(musterbank.consent, 'bankOffered');
    assert.deepEqual(musterbank.features, { withBalance: false, bookingStatusBoth: true });
    assert.deepEqual([musterbank.frequencyPerDay, musterbank.consentDays, musterbank.historyDays, musterbank.timeoutMs], [4, 90, 730, 30_000]);
    assert.equal(musterbank.tppIpAddress, '203.0.113.10');
    assert.match(musterbank.tls?.key ?? '', /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(musterbank.signing, null, 'signatures only for banks that ask');
    assert.match(musterbank.logoSvg, /^<svg[\s\S]*>M<\/text>/);
    assert.equal(musterbank.logoUrl, '/assets/banks/musterbankde.svg');
  });

  test('a bank that asks for signatures gets the QSealC; its own CA; its own logo file', () => {
    fs.writeFileSync(path.join(certs.dir, 'logo.svg'), '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>');
    const [musterbank] = parse({ tpp, banks: [bank({ logo: 'logo.svg', certificates: { signature: true, serverCa: 'ca.pem' }, approaches: ['DECOUPLED', 'REDIRECT'], frequencyPerDay: 2 })] });
    assert.equal(musterbank?.signing?.certificate.subject.includes('Example Budget ApS'), true);
    assert.match(musterbank?.serverCa ?? '', /BEGIN CERTIFICATE/);
    assert.match(musterbank?.logoSvg ?? '', /^<svg /);
    assert.deepEqual(musterbank?.approaches, ['DECOUPLED', 'REDIRECT']);
  });

  test('every mistake is named, with its entry, in one error', () => {
    fs.writeFileSync(path.join(certs.dir, 'evil.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const found = problems({
      tpp: { ...tpp, ipAddress: '2001:db8::1' },
      banks: [
        bank({ baseUrl: 'http://xs2a.musterbank.example', approach: ['REDIRECT'] }),
        bank({ id: 'musterbankde', country: 'Germany', approaches: ['EMBEDDED'], frequencyPerDay: 0 }),
        { id: 'NoName', baseUrl: 'https://x.example', approaches: [], currency: 'euro', logo: 'evil.svg', certificates: { mtls: true, qwac: { certificate: 'missing.pem', key: 'qwac.key' } } },
        'not an object',
      ],
    });
    assert.deepEqual(found, [
      'banks.json: tpp: ipAddress must be an IPv4 address (the address Ferry’s requests leave from)',
      'banks.json: banks[0] (MusterbankDE): unknown setting "approach"',
      'banks.json: banks[0] (MusterbankDE): baseUrl must be the bank’s https API root without query, e.g. "https://xs2a.bank.example/psd2" (http only on loopback)',
      'banks.json: banks[1] (musterbankde): id musterbankde is used twice',
      'banks.json: banks[1] (musterbankde): country must be an ISO 3166-1 code such as "DE"',
      'banks.json: banks[1] (musterbankde): the embedded approach needs "consent": "allPsd2" (a bank-offered consent is not allowed with it)',
      'banks.json: banks[1] (musterbankde): frequencyPerDay must be a whole number from 1 to 24',
      'banks.json: banks[2] (NoName): name must be 1 to 100 characters',
      'banks.json: banks[2] (NoName): country must be an ISO 3166-1 code such as "DE"',
      'banks.json: banks[2] (NoName): currency must be an ISO 4217 code such as "EUR"',
      'banks.json: banks[2] (NoName): approaches must list one or more of REDIRECT, DECOUPLED, EMBEDDED, each once',
      `banks.json: banks[2] (NoName).certificates: QWAC certificate: cannot read ${path.join(certs.dir, 'missing.pem')} (ENOENT)`,
      `banks.json: banks[2] (NoName): logo ${path.join(certs.dir, 'evil.svg')} must be a self-contained SVG under 100 kB: no script, event handlers or links to other files`,
      'banks.json: banks[3]: must be an object',
    ]);
  });

  test('certificates: a key that is not the certificate’s, or no QWAC at all, is refused without quoting either', () => {
    const mismatch = problems({ tpp: { qwac: { certificate: 'qwac.pem', key: 'qseal.key' } }, banks: [bank()] });
    assert.deepEqual(mismatch, [`banks.json: banks[0] (MusterbankDE).certificates: QWAC key ${path.join(certs.dir, 'qseal.key')} does not belong to the certificate ${path.join(certs.dir, 'qwac.pem')}`]);
    assert.deepEqual(problems({ banks: [bank({ certificates: { signature: true } })] }), [
      'banks.json: banks[0] (MusterbankDE).certificates: mtls needs a QWAC: set tpp.qwac or certificates.qwac',
      'banks.json: banks[0] (MusterbankDE).certificates: signature needs a QSealC: set tpp.qseal or certificates.qseal',
    ]);
    assert.deepEqual(problems({ tpp, banks: [bank({ baseUrl: 'http://127.0.0.1:8080', certificates: { mtls: true } })] }), ['banks.json: banks[0] (MusterbankDE).certificates: mtls needs an https baseUrl']);
    assert.equal(parse({ banks: [bank({ baseUrl: 'http://127.0.0.1:8080' })] })[0]?.tls, null, 'a bank on loopback over http: no mutual TLS');
    const key = fs.readFileSync(path.join(certs.dir, 'qwac.key'), 'utf8');
    for (const problem of [...mismatch, ...problems({ tpp: { qwac: { certificate: 'qwac.key', key: 'qwac.pem' } }, banks: [bank()] })]) assert.ok(!problem.includes(key.slice(40, 80)));
  });

  test('loadXs2aBanks names the file when it is missing or not JSON', () => {
    assert.throws(() => loadXs2aBanks(path.join(certs.dir, 'nope.json')), (e: unknown) => e instanceof ConfigError && /FERRY_XS2A_BANKS: cannot read .*nope\.json \(ENOENT\)/.test(e.problems[0]!));
    fs.writeFileSync(path.join(certs.dir, 'broken.json'), '{ "banks": [ }');
    assert.throws(() => loadXs2aBanks(path.join(certs.dir, 'broken.json')), (e: unknown) => e instanceof ConfigError && /broken\.json is not JSON/.test(e.problems[0]!));
  });

  test('Ferry lists a configured bank, with its logo; a bad file stops the start with the message', async () => {
    const file = path.join(certs.dir, 'banks.json');
    fs.writeFileSync(file, JSON.stringify({ tpp, banks: [bank()] }));
    const testDb = await createTestDatabase('sqlite');
    try {
      const config = { ...loadConfig({ PUBLIC_URL: 'https://ferry.test', LOG_LEVEL: 'silent', FERRY_DEMO: 'false', FERRY_XS2A_BANKS: file }), database: testDb.config };
      assert.equal(config.xs2a.banksFile, file);
      assert.equal(config.xs2a.sandboxUrl, 'http://127.0.0.1:3000/sandbox/xs2a');
      const { app } = await buildServer({ config, database: testDb.database });
      const providers = (await app.inject({ method: 'GET', url: '/v2/providers' })).json().providers as { id: string; logoUrl: string; loginMethods: string[] }[];
      const ids = providers.map((p) => p.id);
      assert.deepEqual(ids.slice(-4), ['SandboxXs2aRedirectBank', 'SandboxXs2aDecoupledBank', 'SandboxXs2aEmbeddedBank', 'MusterbankDE']);
      assert.deepEqual(providers.at(-1), { ...providers.at(-1), logoUrl: 'https://ferry.test/assets/banks/musterbankde.svg', loginMethods: ['Redirect'] });
      const logo = await app.inject({ method: 'GET', url: '/assets/banks/musterbankde.svg' });
      assert.equal(logo.statusCode, 200);
      await app.close();

      fs.writeFileSync(file, JSON.stringify({ banks: [bank({ approaches: ['SMS'] })] }));
      await assert.rejects(buildServer({ config, database: testDb.database }), (e: unknown) => e instanceof ConfigError && e.message.includes('banks[0] (MusterbankDE): approaches must list one or more of REDIRECT, DECOUPLED, EMBEDDED'));
    } finally {
      await testDb.drop();
    }
  });
});

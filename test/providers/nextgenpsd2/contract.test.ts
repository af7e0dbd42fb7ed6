import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { OpenApiContract, readAsJsonSchema } from '../../../src/providers/nextgenpsd2/openapi-contract.js';

const SPEC = new URL('../../../src/providers/nextgenpsd2/spec/psd2-api-1.3.9-2021-05-04', import.meta.url);
const contract = OpenApiContract.berlinGroup();
const json = { 'content-type': 'application/json' };
const requestId = () => ({ 'x-request-id': crypto.randomUUID() });
const examples = (JSON.parse(fs.readFileSync(`${SPEC.pathname}.json`, 'utf8')) as { components: { examples: Record<string, { value: unknown }> } }).components.examples;

describe('the Berlin Group NextGenPSD2 OpenAPI file as a contract', () => {
  test('the JSON Ferry loads is the published YAML, unchanged', () => {
    const yaml = parse(fs.readFileSync(`${SPEC.pathname}.yaml`, 'utf8'));
    assert.deepEqual(JSON.parse(fs.readFileSync(`${SPEC.pathname}.json`, 'utf8')), yaml);
  });

  test('a consent request as the guidelines show it passes; each broken rule is named', () => {
    const body = { access: { balances: [], transactions: [] }, recurringIndicator: true, validUntil: '2026-04-15', frequencyPerDay: 4, combinedServiceIndicator: false };
    const ok = contract.checkRequest({ method: 'POST', path: '/v1/consents', query: new URLSearchParams(), headers: { ...requestId(), ...json, 'psu-ip-address': '192.0.2.10' }, body });
    assert.deepEqual(ok, { operationId: 'createConsent', problems: [] });

    const bad = contract.checkRequest({
      method: 'POST',
      path: '/v1/consents',
      query: new URLSearchParams('withBalance=true'),
      headers: { ...json, 'psu-ip-address': 'not-an-ip' },
      body: { ...body, recurringIndicator: 'true', frequencyPerDay: 0, combinedServiceIndicator: undefined },
    });
    assert.deepEqual(bad.problems.sort(), [
      'body/frequencyPerDay: must be >= 1',
      'body/recurringIndicator: must be boolean',
      "body: must have required property 'combinedServiceIndicator'",
      'header PSU-IP-Address: must match format "ipv4"',
      'header X-Request-ID: required',
      'query withBalance: not a parameter of createConsent',
    ]);
  });

  test('concrete paths win over templated ones (OpenAPI 3.0 §4.7.8)', () => {
    assert.equal(contract.operationId('GET', '/v1/consents/abc/status'), 'getConsentStatus');
    assert.equal(contract.operationId('GET', '/v1/accounts/abc/transactions'), 'getTransactionList');
    assert.equal(contract.operationId('POST', '/v1/payments/sepa-credit-transfers'), 'initiatePayment');
    assert.equal(contract.operationId('GET', '/v2/accounts'), null);
  });

  test('query parameters are typed: bookingStatus is required and closed, pageIndex an integer', () => {
    const headers = { ...requestId(), 'consent-id': 'c-1' };
    const check = (query: string) => contract.checkRequest({ method: 'GET', path: '/v1/accounts/a1/transactions', query: new URLSearchParams(query), headers }).problems;
    assert.deepEqual(check('bookingStatus=both&dateFrom=2025-01-01&pageIndex=2'), []);
    assert.deepEqual(check('dateFrom=2025-01-01'), ['query bookingStatus: required']);
    assert.deepEqual(check('bookingStatus=everything&dateFrom=2025-13-01&pageIndex=two'), [
      'query dateFrom: must match format "date"',
      'query bookingStatus: must be equal to one of the allowed values (information, booked, pending, both, all)',
      'query pageIndex: must be integer',
    ]);
    assert.deepEqual(contract.checkRequest({ method: 'GET', path: '/v1/accounts', query: new URLSearchParams(), headers: requestId() }).problems, ['header Consent-ID: required']);
  });

  test('update PSU data: each body the guidelines list passes, anything else does not', () => {
    const put = (body: unknown) =>
      contract.checkRequest({ method: 'PUT', path: '/v1/consents/c-1/authorisations/a-1', query: new URLSearchParams(), headers: { ...requestId(), ...json }, body }).problems;
    for (const body of [{}, { psuData: { password: 'start12' } }, { authenticationMethodId: 'sms' }, { scaAuthenticationData: '123456' }, { confirmationCode: 'x' }]) assert.deepEqual(put(body), [], JSON.stringify(body));
    assert.ok(put({ pin: '1234' }).includes('body: must match a schema in anyOf'));
  });

  test('every consent example of the specification is a valid answer to createConsent', () => {
    for (const name of ['consentResponseExample1a_Redirect', 'consentResponseExample1b_Redirect', 'consentResponseExample3_Decoupled', 'consentResponseExample4_Embedded']) {
      const check = contract.checkResponse('POST', '/v1/consents', { status: 201, headers: { ...requestId(), ...json }, body: examples[name]!.value });
      assert.deepEqual(check.problems, [], name);
    }
  });

  test('answers: status, required headers, media type and body are checked', () => {
    const get = (status: number, headers: Record<string, string>, body?: unknown) => contract.checkResponse('GET', '/v1/accounts/a1/transactions', { status, headers, body }).problems;
    assert.deepEqual(get(200, { ...requestId(), ...json }, { transactions: { booked: [{ transactionAmount: { currency: 'EUR', amount: '-1.50' } }], _links: { account: { href: '/v1/accounts/a1' } } } }), []);
    assert.deepEqual(get(200, json, { transactions: { booked: [{ transactionAmount: { currency: 'EUR', amount: -1.5 } }], _links: {} } }), [
      'header X-Request-ID: required',
      'body/transactions/booked/0/transactionAmount/amount: must be string',
      "body/transactions/_links: must have required property 'account'",
    ]);
    assert.deepEqual(get(418, requestId()), ['status 418: not an answer getTransactionList may give']);
    assert.deepEqual(get(503, requestId()), []);
    assert.deepEqual(get(503, { ...requestId(), ...json }, { oops: true }), ['body: status 503 of getTransactionList has none']);
    assert.deepEqual(get(429, { ...requestId(), 'content-type': 'text/html' }, '<html>'), ['content-type text/html: not one of application/json, application/problem+json']);
  });

  test('frequencyPerDay: the 3.0 boolean exclusiveMinimum is read as draft 7 means it', () => {
    const read = readAsJsonSchema({ a: { minimum: 1, exclusiveMinimum: false }, b: { minimum: 1, exclusiveMinimum: true }, c: { oneOf: [{}, { type: 'string' }] } });
    assert.deepEqual(read, { a: { minimum: 1 }, b: { exclusiveMinimum: 1 }, c: { anyOf: [{ type: 'object', maxProperties: 0 }, { type: 'string' }] } });
  });
});

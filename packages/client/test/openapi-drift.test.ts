import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { CLIENT_TYPES_PATH, ferryOpenApiDocument, renderClientTypes } from '../../../scripts/client-types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GENERATED = path.join(ROOT, CLIENT_TYPES_PATH);
const UNIVERSAL_TSCONFIG = path.join(ROOT, 'packages/client/tsconfig.universal.json');

/**
 * The client cannot drift from the server, in two steps:
 * 1. its generated types must be what Ferry's current OpenAPI document generates;
 * 2. the client must compile against them, and every path, method, parameter, body and answer
 *    it uses is checked by that compile (CI type-checks; here, deliberately drifted copies of the
 *    generated file must fail to compile, so the check is known to bite).
 */
describe('@ferry/client and Ferry’s OpenAPI document', () => {
  it('the committed generated types are what the server’s current document generates (else: npm run client:generate)', async () => {
    const document = await ferryOpenApiDocument();
    const schemas = Object.keys((document.components as { schemas: Record<string, unknown> }).schemas);
    for (const name of ['Account', 'Transaction', 'Money', 'WebhookDelivery']) assert.ok(schemas.includes(name), `the document names the shared schema ${name}`);

    const expected = await renderClientTypes(document);
    const committed = fs.readFileSync(GENERATED, 'utf8');
    if (committed !== expected) {
      const a = committed.split('\n');
      const b = expected.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      assert.fail(
        `${CLIENT_TYPES_PATH} is out of date with the server's OpenAPI document (first difference at line ${line + 1}:\n` +
          `  committed: ${a[line]?.trim()}\n  generated: ${b[line]?.trim()}).\n` +
          'Run `npm run client:generate`, then fix whatever in the client no longer compiles.',
      );
    }
  });

  describe('the client compiles only against a document that has what it uses', () => {
    const compile = compilerFor(UNIVERSAL_TSCONFIG);
    const original = fs.readFileSync(GENERATED, 'utf8');

    it('compiles against the generated types, as a browser or edge project would (no Node types)', () => {
      assert.deepEqual(compile(original), []);
    });

    const drifts: Array<[string, (source: string) => string]> = [
      ['a path the client calls is renamed', (s) => s.replace('"/v1/accounts/{accountId}/transactions": {', '"/v1/accounts/{accountId}/transaction-list": {')],
      ['an answer’s field is renamed', (s) => s.replace('accounts: components["schemas"]["Account"][];', 'items: components["schemas"]["Account"][];')],
      ['a token answer loses refresh_token', (s) => s.replace(/\n\s*\/\*\* @description JWT; rotates on every refresh\. \*\/\n\s*refresh_token: string;/, '')],
      ['a request body field is renamed', (s) => s.replace(/"application\/json": \{\n(\s*)redirectUrl\?: string;/, '"application/json": {\n$1redirect_url?: string;')],
      ['a path parameter is renamed', (s) => s.replace('transactionId: string;', 'id: string;')],
      ['an operation loses its JSON answer', (s) => s.replace(/("\/v1\/consents\/\{consentId\}": \{[\s\S]*?)200: \{\n(\s*)headers: \{\n\s*\[name: string\]: unknown;\n\s*\};\n\s*content: \{/, '$1200: {\n$2headers: {\n[name: string]: unknown;\n};\ncontentGone: {')],
    ];
    for (const [drift, mutate] of drifts) {
      it(`fails to compile when ${drift}`, () => {
        const drifted = mutate(original);
        assert.ok(drifted !== original, 'the mutation applies to the generated file');
        const errors = compile(drifted);
        assert.ok(errors.length > 0, 'the client no longer compiles');
        assert.ok(errors.some((e) => e.includes('src/client/')), `the errors are in the client: ${errors.join('\n')}`);
      });
    }
  });
});

/** Type-checks the client with the generated file's text replaced; returns the diagnostics. */
function compilerFor(tsconfig: string): (generated: string) => string[] {
  const { config } = ts.readConfigFile(tsconfig, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(tsconfig));
  let previous: ts.Program | undefined;
  return (generated) => {
    const host = ts.createCompilerHost(parsed.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      path.resolve(fileName) === GENERATED ? ts.createSourceFile(fileName, generated, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host, ...(previous ? { oldProgram: previous } : {}) });
    previous = program;
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.relative(path.join(ROOT, 'packages/client'), d.file.fileName)}: ` : '';
      return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  };
}

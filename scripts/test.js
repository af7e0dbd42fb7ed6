#!/usr/bin/env node
// `npm test`: every test file under test/ (and packages/*/test), on Node's own test runner with tsx
// loading TypeScript. Database tests run on SQLite and PostgreSQL unless FERRY_TEST_DIALECTS narrows
// it (e.g. FERRY_TEST_DIALECTS=sqlite). Arguments narrow the files: `npm test -- test/oauth`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test', ...packageTestDirs()];

function packageTestDirs() {
  if (!fs.existsSync('packages')) return [];
  return fs.readdirSync('packages').map((p) => path.join('packages', p, 'test')).filter((d) => fs.existsSync(d));
}

function collect(entry) {
  if (!fs.existsSync(entry)) return [];
  if (fs.statSync(entry).isFile()) return [entry];
  return fs
    .readdirSync(entry, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? collect(path.join(entry, d.name)) : /\.test\.tsx?$/.test(d.name) ? [path.join(entry, d.name)] : []))
    .sort();
}

const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);

#!/usr/bin/env node
// Converts the Berlin Group's NextGenPSD2 OpenAPI file (YAML, as published) to JSON beside it, so Ferry
// loads it in milliseconds instead of parsing 550 kB of YAML at run time. The JSON is the same document:
// test/providers/nextgenpsd2/contract.test.ts checks that it equals the YAML. Run after replacing the YAML:
//   node scripts/xs2a-spec-json.js
import fs from 'node:fs';
import { parse } from 'yaml';

const dir = new URL('../src/providers/nextgenpsd2/spec/', import.meta.url);
const name = 'psd2-api-1.3.9-2021-05-04';
const document = parse(fs.readFileSync(new URL(`${name}.yaml`, dir), 'utf8'));
fs.writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(document)}\n`);
console.log(`wrote ${name}.json`);

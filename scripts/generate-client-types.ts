// `npm run client:generate`: regenerates packages/client/src/generated/openapi.ts from the
// OpenAPI document of the Ferry in this working tree (see scripts/client-types.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_TYPES_PATH, generateClientTypes } from './client-types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, CLIENT_TYPES_PATH);
const source = await generateClientTypes();
const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, source);
console.log(before === source ? `${CLIENT_TYPES_PATH} is up to date.` : `wrote ${CLIENT_TYPES_PATH}`);

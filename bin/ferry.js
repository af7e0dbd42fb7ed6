#!/usr/bin/env node
// The `ferry` command. Ferry is written in TypeScript and runs through tsx's loader,
// so there is no build step between a checkout and a running server.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Ferry's own tsconfig, wherever the command is started from: tsx otherwise looks for one in the
// working directory, and without Ferry's `jsxImportSource` every page would fail to render.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));

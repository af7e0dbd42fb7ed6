#!/usr/bin/env node
// The `ferry` command. Ferry is written in TypeScript and runs through tsx's loader,
// so there is no build step between a checkout and a running server.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));

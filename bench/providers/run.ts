/**
 * Benchmark of the sandbox banks' data (issue 3): listing a user's accounts and fetching two years
 * of transactions for each, through the provider interface, as the first sync does.
 *
 *   npx tsx bench/providers/run.ts
 *
 * Targets: a 3-account user under 20 ms, the 20,000-transaction `longhistory` user under 200 ms.
 * Bounded: a fixed number of rounds (a few seconds). Exits non-zero when a median misses its target.
 */
import os from 'node:os';
import { openDatabase } from '../../src/db/database.js';
import { migrateOrThrow } from '../../src/db/migrate.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import type { BankProvider, LoginStep, ProviderConnection } from '../../src/providers/types.js';

const NOW = Date.now();
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const range = { from: isoDay(NOW - 730 * DAY_MS), to: isoDay(NOW) };
const ctx = { now: () => NOW };

const database = await openDatabase({ dialect: 'sqlite', file: ':memory:' });
await migrateOrThrow(database);
const registry = createProviderRegistry({ db: database.db, sandbox: true, publicUrl: 'http://localhost:3000' });
const provider = registry.get('TestDataBank1')!;

async function login(p: BankProvider, username: string): Promise<ProviderConnection> {
  const loginCtx = { culture: 'en' as const, publicUrl: 'http://localhost:3000', returnUrl: 'http://localhost:3000/cb', now: () => NOW };
  let step: LoginStep = await p.startLogin(loginCtx);
  while (step.kind === 'form') step = await p.continueLogin(step.state, { kind: 'form', fields: { username, password: '1234' } }, loginCtx);
  if (step.kind !== 'done') throw new Error(`login of ${username} ended ${step.kind}`);
  return step.connection;
}

/** One sync's worth of reading: the accounts, then two years of each account's transactions. */
async function syncRead(connection: ProviderConnection): Promise<number> {
  let count = 0;
  for (const account of await provider.listAccounts(connection, ctx)) {
    count += (await provider.fetchTransactions(connection, account.id, range, ctx)).length;
  }
  return count;
}

interface Figures {
  name: string;
  accounts: number;
  transactions: number;
  coldMs: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
  targetMs: number;
}

async function measure(name: string, username: string, rounds: number, targetMs: number): Promise<Figures> {
  const connection = await login(provider, username);
  const accounts = (await provider.listAccounts(connection, ctx)).length;
  let started = performance.now();
  const transactions = await syncRead(connection);
  const coldMs = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    started = performance.now();
    await syncRead(connection);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { name, accounts, transactions, coldMs, medianMs: at(0.5), p95Ms: at(0.95), minMs: times[0]!, targetMs };
}

// A user with exactly three accounts (one in four ordinary users has a fourth).
let threeAccountUser = 'benchmark';
for (let i = 0; (await provider.listAccounts(await login(provider, threeAccountUser), ctx)).length !== 3; i++) threeAccountUser = `benchmark-${i}`;

const results = [await measure(`3-account user (${threeAccountUser})`, threeAccountUser, 200, 20), await measure('longhistory (20,000 transactions)', 'longhistory', 40, 200)];
await database.close();

const f = (ms: number) => ms.toFixed(1);
console.log(`Sandbox bank data, two years per account, via the provider interface — ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`);
console.log('| case | accounts | transactions | first call | median | p95 | min | target |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.accounts} | ${r.transactions} | ${f(r.coldMs)} ms | ${f(r.medianMs)} ms | ${f(r.p95Ms)} ms | ${f(r.minMs)} ms | < ${r.targetMs} ms |`);
}
const missed = results.filter((r) => r.medianMs >= r.targetMs);
if (missed.length > 0) {
  console.error(`missed: ${missed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}

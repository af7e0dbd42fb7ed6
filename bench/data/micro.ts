/**
 * Micro-timings of the data API's parts, in process (no HTTP): token verification, the liveness
 * reads, the page read, serialization. For finding where a request's microseconds go.
 *
 *   npx tsx bench/data/micro.ts [--dialect sqlite|postgres] [--iterations 20000]
 */
import { parseArgs } from 'node:util';
import type { DatabaseConfig } from '../../src/config.js';
import { createDataStore } from '../../src/data/data-store.js';
import { analyze, benchPostgresUrl, connectConsent, createBenchDatabase, createBenchServer, runJobs, type Dialect } from './setup.js';

const { values } = parseArgs({ options: { dialect: { type: 'string', default: 'sqlite' }, iterations: { type: 'string', default: '20000' } } });
const dialect = values.dialect as Dialect;
const N = Number(values.iterations);
const bench = await createBenchDatabase(dialect);
const databaseConfig: DatabaseConfig = dialect === 'sqlite' ? { dialect, file: bench.env.FERRY_DB_FILE! } : { dialect, url: benchPostgresUrl(), poolSize: 10 };
const server = await createBenchServer(bench.database, databaseConfig, 'http://127.0.0.1:1');
try {
  const consent = await connectConsent(server, 'benchmark');
  await runJobs(server);
  await analyze(bench.database);
  const headers = { authorization: `Bearer ${consent.accessToken}` };
  const accounts = (await server.app.inject({ url: '/v1/accounts', headers })).json<{ accounts: Array<{ id: string }> }>().accounts;
  const accountId = accounts[0]!.id;
  const store = createDataStore(bench.database);
  const claims = server.services.tokens.verifyAccessToken(consent.accessToken)!;

  async function time(name: string, fn: () => unknown, n = N): Promise<void> {
    for (let i = 0; i < Math.min(n, 2000); i++) await fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    const us = Number(process.hrtime.bigint() - start) / 1000 / n;
    console.log(`${name.padEnd(50)} ${us.toFixed(1).padStart(8)} µs`);
  }
  await time('verifyAccessToken', () => server.services.tokens.verifyAccessToken(consent.accessToken));
  await time('store.liveness', () => store.liveness(claims.sessionId));
  await time('store.livenessAndAccounts', () => store.livenessAndAccounts(claims.sessionId));
  await time('store.livenessAndAccount', () => store.livenessAndAccount(claims.sessionId, accountId));
  const filter = { includeDeleted: false, interval: null, amount: null, balance: null, after: null, limit: 51 };
  await time('store.transactionPage 51', () => store.transactionPage(accountId, filter));
  await time('inject GET /v1/accounts', () => server.app.inject({ url: '/v1/accounts', headers }), N / 4);
  await time('inject GET transactions 50', () => server.app.inject({ url: `/v1/accounts/${accountId}/transactions?pageSize=50`, headers }), N / 10);
} finally {
  await server.close();
  await bench.drop();
}

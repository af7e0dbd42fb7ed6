/**
 * What one journey of the load benchmark asks of PostgreSQL, request by request (issue 8: ~35
 * transactions and ~22 ms of PostgreSQL CPU per flow). One `ferry start` on a fresh database with
 * `log_statement = all` for its own connections only (PGOPTIONS, this database's sessions), one
 * simulated user walking the journey (bench/lib/simulated-users.ts) with a marker statement
 * before each request; the server's log (this machine's PostgreSQL log file) is then read back
 * and its statements grouped by request.
 *
 *   npx tsx bench/load/statements.ts [--users 1] [--log /var/log/postgresql/postgresql-15-main.log]
 *
 * Prints, per request, the statements (BEGIN/COMMIT included) in order; then the totals. Background
 * work (job polling, the sweeper, webhooks) runs too and shows up between markers: it is listed
 * apart by the tables it touches.
 */
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Deployment, sleep } from '../lib/ferry-cluster.js';
import { sendRequest } from '../lib/flow-walk.js';
import { journey, type JourneyTarget, type JsonTransport } from '../lib/simulated-users.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1' },
    log: { type: 'string', default: '/var/log/postgresql/postgresql-15-main.log' },
  },
});
const NAME = 'ferry_bench_statements';
process.env.PGOPTIONS = '-c log_statement=all';
const deployment = new Deployment({ name: NAME, processes: 1 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function requestName(method: string, url: string): string {
  const path = url.split('?')[0]!.replace(/\/flow\/[^/]+\//, '/flow/:id/').replace(/\/accounts\/[^/]+\/transactions/, '/accounts/:id/transactions');
  return `${method} ${path}`;
}

try {
  await deployment.start();
  await sleep(2000);
  const target: JourneyTarget = { port: deployment.proxyPort, ...deployment.app };
  const logStart = fs.statSync(args.log).size;
  const transport: JsonTransport = async (method, url, headers, body, bodyType) => {
    await deployment.query(`select 'MARK ${requestName(method, url).replace(/'/g, '')}' as mark`);
    return sendRequest(agent, deployment.proxyPort, method, url, headers, body, bodyType);
  };
  for (let user = 0; user < Number(args.users); user++) await journey(target, user, transport, null);
  await deployment.query(`select 'MARK end' as mark`);
  await sleep(1500);
  const log = fs.readFileSync(args.log, 'utf8').slice(logStart);
  // Lines of this database's sessions: "<time> [pid] postgres@ferry_bench_statements LOG:  statement: …" / "execute <name>: …".
  const entries: { pid: string; text: string }[] = [];
  for (const line of log.split('\n')) {
    const match = new RegExp(`^\\S+ \\S+ \\S+ \\[(\\d+)\\] \\S*@${NAME} LOG:  (?:statement|execute [^:]*): (.*)$`).exec(line);
    if (match !== null) entries.push({ pid: match[1]!, text: match[2]! });
    else if (/^\s/.test(line) && entries.length > 0) entries.at(-1)!.text += ` ${line.trim()}`;
  }
  const background = /"jobs"|jobs |webhook_deliveries|"settings"|pg_try_advisory|signing_keys/;
  let current = 'before the first request';
  const byRequest = new Map<string, string[]>();
  const backgroundByRequest = new Map<string, number>();
  for (const { text } of entries) {
    const mark = /select 'MARK (.*)' as mark/.exec(text);
    if (mark !== null) {
      current = mark[1]!;
      continue;
    }
    if (/^select count\(\*\)|pg_stat/.test(text)) continue;
    if (background.test(text)) {
      backgroundByRequest.set(current, (backgroundByRequest.get(current) ?? 0) + 1);
      continue;
    }
    const list = byRequest.get(current) ?? [];
    list.push(text.slice(0, 220));
    byRequest.set(current, list);
  }
  let total = 0;
  let transactions = 0;
  for (const [request, statements] of byRequest) {
    const begins = statements.filter((s) => /^begin/i.test(s)).length;
    const own = statements.filter((s) => !/^(begin|commit|rollback)/i.test(s)).length;
    total += own;
    transactions += begins + statements.filter((s, i) => !/^(begin|commit|rollback)/i.test(s) && !insideTransaction(statements, i)).length;
    process.stdout.write(`\n## ${request}: ${own} statements, ${begins} transactions (+ ${backgroundByRequest.get(request) ?? 0} background)\n`);
    for (const s of statements) process.stdout.write(`  ${s}\n`);
  }
  process.stdout.write(`\nTotal: ${total} statements, ${transactions} transactions (a statement outside a transaction counts as one), per ${args.users} journey(s)\n`);
} finally {
  agent.destroy();
  await deployment.stop();
}

function insideTransaction(statements: string[], index: number): boolean {
  let open = false;
  for (let i = 0; i < index; i++) {
    if (/^begin/i.test(statements[i]!)) open = true;
    else if (/^(commit|rollback)/i.test(statements[i]!)) open = false;
  }
  return open;
}

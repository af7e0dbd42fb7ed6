import cluster from 'node:cluster';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import v8 from 'node:v8';
import {
  addRedirectUri,
  AppError,
  createApp,
  listApps,
  removeRedirectUri,
  rotateClientSecret,
} from './apps/apps.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, type FerryDatabase } from './db/database.js';
import { migrateOrThrow } from './db/migrate.js';
import { DEMO_CALLBACK_PATH, ensureDemoApp } from './demo/demo-app.js';
import { buildServer } from './server.js';
import { createSigningKey } from './tokens/signing-keys.js';
import { retentionStats } from './consents/retention.js';
import { serveClusterMetrics } from './metrics/metrics.js';
import { webhooksCommands } from './webhooks/cli.js';
import { portalCommands } from './portal/cli.js';

interface Command {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals?: string[];
  run(args: { values: Record<string, unknown>; positionals: string[]; out: Output }): Promise<number>;
}

interface Output {
  log(line: string): void;
  error(line: string): void;
}

const consoleOutput: Output = { log: (l) => process.stdout.write(`${l}\n`), error: (l) => process.stderr.write(`${l}\n`) };

const help = { help: { type: 'boolean', short: 'h' } } as const;
const json = { json: { type: 'boolean' } } as const;

const COMMANDS: Record<string, Command> = {
  start: {
    usage: 'ferry start [--workers N]',
    summary: 'Start the server (migrations run first). On an empty database, creates the demo app and prints its connect URL. --workers N runs N processes sharing the port (node:cluster).',
    options: { ...help, workers: { type: 'string' } },
    run: ({ values, out }) => {
      const workers = values.workers === undefined ? 1 : Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new AppError('--workers must be a whole number from 1 to 64.');
      return workers > 1 && cluster.isPrimary ? startCluster(out, workers) : startServer(out);
    },
  },
  migrate: {
    usage: 'ferry migrate',
    summary: 'Bring the database schema up to date and exit.',
    options: { ...help },
    run: ({ out }) =>
      withDatabase(async (database) => {
        const applied = await migrateOrThrow(database);
        out.log(applied.length === 0 ? 'The database is up to date.' : `Applied ${applied.join(', ')}.`);
        return 0;
      }),
  },
  'apps create': {
    usage: 'ferry apps create --name NAME --redirect-uri URI [--redirect-uri URI …] [--webhook-url URL --webhook-secret SECRET] [--logo-url URL] [--brand-color #RRGGBB] [--json]',
    summary: 'Register an app. Prints its client id and secret; the secret is shown only this once.',
    options: {
      ...help,
      ...json,
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'logo-url': { type: 'string' },
      'brand-color': { type: 'string' },
    },
    run: ({ values, out }) =>
      withMigratedDatabase(async (database) => {
        if (typeof values.name !== 'string') throw new AppError('--name is required.');
        const { app, clientSecret } = await createApp(database.db, systemClock, {
          name: values.name,
          redirectUris: (values['redirect-uri'] as string[] | undefined) ?? [],
          webhookUrl: (values['webhook-url'] as string | undefined) ?? null,
          webhookSecret: (values['webhook-secret'] as string | undefined) ?? null,
          logoUrl: (values['logo-url'] as string | undefined) ?? null,
          brandColor: (values['brand-color'] as string | undefined) ?? null,
        });
        if (values.json) out.log(JSON.stringify({ clientId: app.id, clientSecret, name: app.name, redirectUris: app.redirectUris, webhookUrl: app.webhookUrl }));
        else {
          out.log(`Created app "${app.name}".`);
          out.log(`  client id:      ${app.id}`);
          out.log(`  client secret:  ${clientSecret}`);
          out.log(`  redirect URIs:  ${app.redirectUris.join(', ')}`);
          out.log('Store the secret now: Ferry keeps only a hash of it and cannot show it again.');
        }
        return 0;
      }),
  },
  'apps list': {
    usage: 'ferry apps list [--json]',
    summary: 'List the registered apps and their redirect URIs.',
    options: { ...help, ...json },
    run: ({ values, out }) =>
      withMigratedDatabase(async (database) => {
        const apps = await listApps(database.db);
        if (values.json) {
          out.log(JSON.stringify(apps.map((a) => ({ clientId: a.id, name: a.name, redirectUris: a.redirectUris, webhookUrl: a.webhookUrl, createdAt: new Date(a.createdAt).toISOString() }))));
        } else if (apps.length === 0) out.log('No apps yet. Create one with: ferry apps create --name NAME --redirect-uri URI');
        else {
          for (const a of apps) {
            out.log(`${a.id}  ${a.name}${a.isDemo ? ' (demo)' : ''}`);
            for (const uri of a.redirectUris) out.log(`    ${uri}`);
          }
        }
        return 0;
      }),
  },
  'apps rotate-secret': {
    usage: 'ferry apps rotate-secret CLIENT_ID [--grace SECONDS] [--json]',
    summary: 'Issue a new client secret. The old one stops working at once, or after --grace seconds.',
    options: { ...help, ...json, grace: { type: 'string' } },
    positionals: ['CLIENT_ID'],
    run: ({ values, positionals, out }) =>
      withMigratedDatabase(async (database) => {
        const grace = values.grace === undefined ? 0 : Number(values.grace);
        if (!Number.isInteger(grace) || grace < 0 || grace > 30 * 86400) throw new AppError('--grace must be a whole number of seconds from 0 to 2592000 (30 days).');
        const clientId = positionals[0]!;
        const clientSecret = await rotateClientSecret(database.db, systemClock, clientId, grace);
        if (values.json) out.log(JSON.stringify({ clientId, clientSecret, previousSecretValidSeconds: grace }));
        else {
          out.log(`New client secret for ${clientId}: ${clientSecret}`);
          out.log(grace > 0 ? `The previous secret keeps working for ${grace} seconds.` : 'The previous secret no longer works.');
        }
        return 0;
      }),
  },
  'apps add-redirect-uri': {
    usage: 'ferry apps add-redirect-uri CLIENT_ID URI',
    summary: 'Register another redirect URI for an app (a * may stand in the path).',
    options: { ...help, ...json },
    positionals: ['CLIENT_ID', 'URI'],
    run: ({ values, positionals, out }) =>
      withMigratedDatabase(async (database) => {
        const uris = await addRedirectUri(database.db, systemClock, positionals[0]!, positionals[1]!);
        out.log(values.json ? JSON.stringify({ clientId: positionals[0], redirectUris: uris }) : `Redirect URIs of ${positionals[0]}:\n${uris.map((u) => `    ${u}`).join('\n')}`);
        return 0;
      }),
  },
  'apps remove-redirect-uri': {
    usage: 'ferry apps remove-redirect-uri CLIENT_ID URI',
    summary: 'Remove a redirect URI from an app (an app keeps at least one).',
    options: { ...help, ...json },
    positionals: ['CLIENT_ID', 'URI'],
    run: ({ values, positionals, out }) =>
      withMigratedDatabase(async (database) => {
        const uris = await removeRedirectUri(database.db, positionals[0]!, positionals[1]!);
        out.log(values.json ? JSON.stringify({ clientId: positionals[0], redirectUris: uris }) : `Redirect URIs of ${positionals[0]}:\n${uris.map((u) => `    ${u}`).join('\n')}`);
        return 0;
      }),
  },
  'consents stats': {
    usage: 'ferry consents stats [--json]',
    summary: 'Consents by status, one-time consents past their deadline and not yet erased, and the last retention sweep.',
    options: { ...help, ...json },
    run: ({ values, out }) =>
      withMigratedDatabase(async (database) => {
        const now = Date.now();
        const stats = await retentionStats(database.db, now);
        if (values.json) {
          out.log(JSON.stringify(stats));
          return 0;
        }
        const statuses = Object.entries(stats.consentsByStatus);
        out.log(`Consents: ${statuses.length === 0 ? 'none' : statuses.map(([s, n]) => `${n} ${s}`).join(', ')}; ${stats.receipts} erased (deletion receipts).`);
        out.log(
          stats.overdue === 0
            ? 'No one-time consent is past its deadline.'
            : `${stats.overdue} one-time consent(s) past their deadline, the oldest since ${new Date(stats.oldestOverdueDeadline!).toISOString()} (${Math.round(stats.deletionLagMs / 1000)} s ago).`,
        );
        const last = stats.lastSweep;
        out.log(last === null ? 'The retention sweeper has not run yet.' : `Last sweep ${new Date(last.startedAt).toISOString()}: erased ${last.erased} consent(s) in ${last.durationMs} ms${last.ownThread === undefined || last.erased === 0 ? '' : last.ownThread ? ', in its own thread' : ', on the serving connection'}.`);
        return 0;
      }),
  },
  'keys rotate': {
    usage: 'ferry keys rotate',
    summary: 'Create a new token signing key. The previous keys stop signing but keep verifying the tokens they signed until those expire.',
    options: { ...help, ...json },
    run: ({ values, out }) =>
      withMigratedDatabase(async (database) => {
        const { kid, retired } = await createSigningKey(database.db, systemClock);
        out.log(values.json ? JSON.stringify({ kid, retired }) : `New signing key ${kid}; ${retired} previous key(s) retired from signing. Running processes pick it up within a minute.`);
        return 0;
      }),
  },
  ...webhooksCommands({ help, json, withMigratedDatabase }),
  ...portalCommands({ help, json, withMigratedDatabase }),
};

function generalHelp(): string {
  const lines = ['Ferry: a self-hostable open-banking connect service.', '', 'Usage: ferry COMMAND [options]', '', 'Commands:'];
  for (const [name, command] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(26)}${command.summary}`);
  lines.push('', 'Run `ferry COMMAND --help` for a command’s options. Configuration comes from the environment (see README).');
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    out.log(generalHelp());
    return first === undefined ? 1 : 0;
  }
  const name = COMMANDS[`${first} ${second ?? ''}`] !== undefined ? `${first} ${second}` : first;
  const command = COMMANDS[name];
  if (command === undefined) {
    const group = Object.keys(COMMANDS).filter((n) => n.startsWith(`${first} `));
    out.error(group.length > 0 ? `Unknown command "${argv.slice(0, 2).join(' ')}". ${first} has: ${group.map((g) => g.split(' ')[1]).join(', ')}.` : `Unknown command "${first}".`);
    out.error('Run `ferry --help` for the list of commands.');
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    out.error(`${(error as Error).message}\nUsage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    out.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  const expected = command.positionals ?? [];
  if (parsed.positionals.length !== expected.length) {
    out.error(`${name} takes ${expected.length === 0 ? 'no arguments' : expected.join(' ')}.\nUsage: ${command.usage}`);
    return 2;
  }
  try {
    return await command.run({ ...parsed, out });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AppError) {
      out.error(error.message);
      return error instanceof ConfigError ? 78 : 1;
    }
    throw error;
  }
}

async function withDatabase<T>(fn: (database: FerryDatabase, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config.database);
  try {
    return await fn(database, config);
  } finally {
    await database.close();
  }
}

function withMigratedDatabase<T>(fn: (database: FerryDatabase, config: Config) => Promise<T>): Promise<T> {
  return withDatabase(async (database, config) => {
    await migrateOrThrow(database);
    return fn(database, config);
  });
}

/** Migrations and the first-start demo app: done once, by the single process or the cluster's primary. */
async function prepareDatabase(config: Config, database: FerryDatabase) {
  await migrateOrThrow(database);
  return config.demo ? ensureDemoApp(database.db, systemClock, config.publicUrl) : null;
}

/**
 * `--workers N`: the primary prepares the database, then forks N workers that each run a full
 * Ferry and share the port; nothing but the database is shared between them. A worker that dies
 * is replaced; SIGTERM is passed on and the primary waits for the workers to finish.
 */
async function startCluster(out: Output, workers: number): Promise<number> {
  const config = loadConfig();
  const database = await openDatabase(config.database);
  const demo = await prepareDatabase(config, database);
  await database.close();
  serveClusterMetrics();
  let stopping = false;
  const fork = () => cluster.fork({ FERRY_CLUSTER_WORKER: '1' });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`ferry: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 1000).unref();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) printBanner(out, config, demo, workers);
  });
  for (let i = 0; i < workers; i++) fork();
  return new Promise<number>(() => {});
}

/**
 * The heap's growing factor for a long-running server. By default (on a machine with memory to
 * spare) V8 lets the old generation grow to about four times what survived the last full GC
 * before it collects again: under the soak's load some 40 MB live became 190 MB of heap and over
 * 300 MB of RSS per process. At 1.5 the heap stays near what is live, for a few more full GCs
 * (15 → 17 a minute there; bench/RESULTS.md, issue 8). Set by `ferry start` itself so that
 * `npm start`, cluster workers and every operator get it; an explicit `--heap-growing-percent`
 * on node's command line wins. V8 reads this flag at every GC, so setting it at run time works.
 */
export const HEAP_GROWING_PERCENT = 50;

export function tuneHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

async function startServer(out: Output): Promise<number> {
  tuneHeap();
  const config = loadConfig();
  const database = await openDatabase(config.database);
  const worker = process.env.FERRY_CLUSTER_WORKER === '1';
  const demo = worker ? null : await prepareDatabase(config, database);
  const { app, services } = await buildServer({ config, database });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await app.close();
    await database.close();
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  await services.startBackgroundWork();
  if (!worker) printBanner(out, config, demo, 1);
  return 0;
}

function printBanner(out: Output, config: Config, demo: Awaited<ReturnType<typeof prepareDatabase>>, processes: number): void {
  const where = config.database.dialect === 'sqlite' ? `SQLite file ${config.database.file}` : 'PostgreSQL';
  out.log('');
  out.log(`Ferry is running at ${config.publicUrl} (${where}${processes > 1 ? `, ${processes} processes` : ''}).`);
  if (demo !== null) {
    const connect = new URL(`${config.publicUrl}/v1/oauth/connect`);
    connect.searchParams.set('client_id', demo.credentials.clientId);
    connect.searchParams.set('redirect_uri', `${config.publicUrl}${DEMO_CALLBACK_PATH}`);
    connect.searchParams.set('response_type', 'code');
    connect.searchParams.set('scope', 'accounts');
    out.log('');
    out.log(`  Try it: open ${config.publicUrl}/demo`);
    out.log(`  or the connect URL directly: ${connect.toString()}`);
    if (demo.created) out.log(`  (created the demo app ${demo.credentials.clientId})`);
  }
  out.log(`  Developer portal (register your own app): ${config.publicUrl}/portal`);
  // Sign-in codes (portal, Ferry accounts) need somewhere to arrive before a mail server is set up.
  if (config.mail.smtpUrl === null) out.log(`  Sandbox mailbox (sign-in codes; no FERRY_SMTP_URL set): ${config.publicUrl}/sandbox/mailbox`);
  out.log(`  API docs: ${config.publicUrl}/docs    health: ${config.publicUrl}/readyz`);
  out.log('');
}

import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { Redis } from 'ioredis';
import { databaseRateLimitStore } from './http/rate-limit-store.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SlowDown } from './errors.js';
import type { Logger } from 'pino';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { FerryDatabase } from './db/database.js';
import { demoRoutes } from './demo/demo-routes.js';
import { docsRoutes } from './http/docs-routes.js';
import { assetRoutes } from './http/assets.js';
import { installRequestLog, requestLoggerFactory } from './http/request-log.js';
import { createConsentRevoker } from './consents/revoke.js';
import { completeOpenApiDocument } from './http/openapi.js';
import { installErrorHandling } from './http/error-handler.js';
import { healthRoutes } from './http/health-routes.js';
import { installSecurityHeaders } from './http/security-headers.js';
import { installAnswerBatching } from './http/answer-batching.js';
import { createLogger } from './logger.js';
import { connectRoute } from './oauth/connect-route.js';
import { metadataRoute } from './oauth/metadata-route.js';
import { TokenService } from './oauth/token-service.js';
import { tokenRoutes } from './oauth/token-routes.js';
import { SigningKeys } from './tokens/signing-keys.js';
import { PagingTokens } from './data/paging.js';
import { dataRoutes } from './data/routes.js';
import { AccountSchema, MoneySchema, TransactionSchema } from './data/schemas.js';
import { storeConsentData, storeReconnectedData, syncConsent, SYNC_JOB } from './data/sync.js';
import { flowRoutes } from './flow/flow-routes.js';
import { legalRoutes } from './flow/legal-routes.js';
import type { FlowDeps } from './flow/session.js';
import { JobRunner } from './jobs/runner.js';
import { FerryMetrics } from './metrics/metrics.js';
import { metricsRoute } from './metrics/metrics-route.js';
import { consentRoutes } from './consents/routes.js';
import { nextSweepAt, RETENTION_SWEEP_JOB, scheduleSweep, sweepExpiredConsents, SWEEP_INTERVAL_MS } from './consents/retention.js';
import { createProviderRegistry, type ProviderRegistry } from './providers/registry.js';
import { providerRoutes } from './providers/routes.js';
import { sandboxBankRoutes } from './providers/sandbox/routes.js';
import { configuredXs2aProviders } from './providers/nextgenpsd2/nextgenpsd2-provider.js';
import { xs2aSandboxRoutes } from './providers/sandbox/xs2a/xs2a-sandbox-routes.js';
import { deploymentSecret } from './settings.js';
import type { HostResolver } from './webhooks/address-guard.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { registerWebhookMetrics } from './webhooks/metrics.js';
import { webhookRoutes } from './webhooks/routes.js';
import { portalRoutes } from './portal/portal-routes.js';
import { homeRoute } from './portal/home-route.js';
import { createIdentityDeps, type IdentityDeps } from './accounts/identity.js';
import { createMailer } from './accounts/mailer.js';
import { accountRoutes } from './accounts/account-routes.js';
import { purgeAccountLeftovers } from './accounts/housekeeping.js';
import { sandboxMailboxRoutes } from './accounts/sandbox-mailbox-routes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerDeps {
  config: Config;
  database: FerryDatabase;
  /** The banks; by default the registry the configuration describes. */
  providers?: ProviderRegistry;
  clock?: Clock;
  logger?: Logger;
  /** Tests that build several servers in one process pass their own (prom-client names are per registry). */
  metrics?: FerryMetrics;
  /** How webhook hosts are resolved (tests point names at addresses); the system's DNS by default. */
  webhookResolver?: HostResolver;
}

/** What the routes are built from; tests reach in here to set up state without HTTP. */
export interface Services {
  config: Config;
  database: FerryDatabase;
  clock: Clock;
  keys: SigningKeys;
  tokens: TokenService;
  providers: ProviderRegistry;
  /** Dependencies of the hosted flow's session functions (consent creation stores the data and queues the sync). */
  flow: FlowDeps;
  /** Runs sync, webhook and deletion jobs; `ferry start` starts it, tests call `runDue()`. */
  jobs: JobRunner;
  metrics: FerryMetrics;
  /** Delivers webhooks; `startBackgroundWork()` starts it, tests call `runDue()`. */
  webhooks: WebhookDispatcher;
  /** Ferry accounts' sign-in by emailed code (src/accounts/identity.ts), with the mailer it sends through. */
  identity: IdentityDeps;
  /** Schedules the periodic work (the retention sweeper) and starts the job runner (`ferry start`). */
  startBackgroundWork(): Promise<void>;
}

/** Path of the hosted flow's first page; the connect endpoint's 301 points here. */
export const FLOW_START_PATH = '/flow/start';

/**
 * Builds the Fastify application over an open, migrated database. Tests call this and use
 * `inject()`; `ferry start` calls it and listens.
 */
export async function buildServer(deps: ServerDeps): Promise<{ app: FastifyInstance; services: Services }> {
  const { config, database } = deps;
  const clock = deps.clock ?? systemClock;
  const keys = new SigningKeys(database.db, clock);
  await keys.init();
  const issuer = config.publicUrl;
  const tokens = new TokenService({ db: database.db, clock, keys, issuer });
  const logger = deps.logger ?? createLogger(config.logLevel);
  const providers =
    deps.providers ??
    createProviderRegistry({
      db: database.db,
      sandbox: config.sandbox,
      publicUrl: issuer,
      xs2aSandboxUrl: config.xs2a.sandboxUrl,
      log: logger,
      // Real banks over NextGenPSD2 (issue #10): the operator's banks file, checked here, at start.
      providers: configuredXs2aProviders(config.xs2a.banksFile, { db: database.db, log: logger }),
    });
  const metrics = deps.metrics ?? new FerryMetrics({ db: database.db, clock });
  const flow: FlowDeps = {
    onFlowCompleted: () => metrics.flowEvent('completed', 'done'),
    db: database.db,
    clock,
    issuer,
    oneTimeRetentionMs: config.oneTimeRetentionSeconds * 1000,
    onConsentCreated: async (trx, created) => {
      await storeConsentData(trx, created);
      // A deadline sooner than the sweeper's next round (a short FERRY_ONE_TIME_RETENTION) pulls the sweep forward to it.
      const deadline = created.consent.delete_at;
      if (deadline !== null && deadline < created.now + SWEEP_INTERVAL_MS) await scheduleSweep(trx, deadline, created.now);
    },
    onConsentReconnected: storeReconnectedData,
  };
  const paging = new PagingTokens(await deploymentSecret(database.db, 'paging'));
  // Ferry accounts (src/accounts/): sign-in codes go out by SMTP, or to the sandbox mailbox.
  const mailer = createMailer(config.mail, database.db, clock, { sandbox: config.sandbox });
  const identity = await createIdentityDeps({ db: database.db, clock, mailer });
  const mailboxServed = mailer.kind === 'sandbox';
  const secureCookies = issuer.startsWith('https://');

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // A hop count is valid at run time (Fastify docs: trustProxy); the type omits it.
    trustProxy: config.trustProxy as boolean | string,
    genReqId: () => crypto.randomUUID(),
    // One line per request instead of Fastify's two (src/http/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // request.log made only when a request logs through it (src/http/request-log.ts).
    childLoggerFactory: requestLoggerFactory,
    return503OnClosing: true,
    // Room for the hosted flow's forms; the OAuth endpoints set a tighter limit.
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: 500 },
  });
  const jobs = new JobRunner({
    database,
    clock,
    logger: app.log,
    // The deletion deadline goes before the sync backlog (bench/RESULTS.md, issue 8: under load the
    // sweep waited behind every older sync and one-time consents outlived deadline + sweep interval).
    firstKinds: [RETENTION_SWEEP_JOB],
    handlers: {
      [SYNC_JOB]: async (_job, payload) => {
        const started = performance.now();
        const report = await syncConsent({ db: database.db, clock, providers }, String(payload.consentId)).catch((error: unknown) => {
          metrics.syncDuration.observe({ outcome: 'failed' }, (performance.now() - started) / 1000);
          throw error;
        });
        metrics.syncDuration.observe({ outcome: report.status }, (performance.now() - started) / 1000);
        if (report.status === 'done') app.log.info({ consentId: payload.consentId, stored: report.stored }, 'sync done');
        webhooks.nudge();
        return { status: 'done' };
      },
      [RETENTION_SWEEP_JOB]: async () => {
        const report = await sweepExpiredConsents({ db: database.db, capabilities: database.capabilities, clock });
        for (const [step, n] of Object.entries(report.abandonedFlows)) metrics.flowEvent('abandoned', step, n);
        await purgeAccountLeftovers(database.db, clock.now());
        if (report.erased > 0) app.log.info({ erased: report.erased, rows: report.rows, durationMs: report.durationMs }, 'retention sweep erased expired consents');
        await scheduleSweep(database.db, await nextSweepAt(database.db, clock.now()), clock.now());
        return { status: 'done' };
      },
    },
  });
  const webhookMetrics = registerWebhookMetrics(metrics.registry, { db: database.db, clock });
  const webhooks = new WebhookDispatcher({
    database,
    clock,
    logger: app.log,
    // Issue #7: loopback only while the sandbox is on; private ranges only when the operator allows them.
    policy: { allowPrivate: config.webhooks.allowPrivate, allowLoopback: config.sandbox },
    timeoutMs: config.webhooks.timeoutMs,
    onAttempt: webhookMetrics.attempt,
    ...(deps.webhookResolver !== undefined ? { resolver: deps.webhookResolver } : {}),
  });
  const startBackgroundWork = async () => {
    await scheduleSweep(database.db, clock.now(), clock.now());
    jobs.start();
    webhooks.start();
  };
  const services: Services = { config, database, clock, keys, tokens, providers, flow, jobs, metrics, webhooks, identity, startBackgroundWork };
  // A callback hook, not an async one: no promise per request for work that never waits.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (route === '/v1/oauth/token') {
      const grantType = (request.body as { grant_type?: unknown } | undefined)?.grant_type;
      metrics.tokenGrants.inc({ grant_type: grantType === 'authorization_code' || grantType === 'refresh_token' ? grantType : 'other', outcome: reply.statusCode === 200 ? 'issued' : 'refused' });
    } else if (route === '/v1/oauth/connect' && reply.statusCode === 301) {
      metrics.flowEvent('started', 'consent');
    }
    done();
  });
  let shuttingDown = false;
  app.addHook('onClose', async () => {
    shuttingDown = true;
    await jobs.stop();
  });
  app.addHook('onClose', () => webhooks.stop());
  for (const schema of [MoneySchema, AccountSchema, TransactionSchema]) app.addSchema(schema);

  installErrorHandling(app);
  installRequestLog(app);
  installSecurityHeaders(app, { https: issuer.startsWith('https://') });
  installAnswerBatching(app);
  await app.register(cookie);
  await registerRateLimits(app, config, database.db, clock);
  await app.register(swagger, {
    // Shared schemas keep their own names (Account, Transaction, Money) in the document.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    // Operation ids, the named error schema, and the 429 / 503 answers (src/http/openapi.ts).
    transformObject: (document) => completeOpenApiDocument('openapiObject' in document ? document.openapiObject : document.swaggerObject),
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Ferry API', version: '1', description: 'Wire-compatible with Aiia Data: OAuth connect and token, accounts and transactions.' },
      servers: [{ url: issuer }],
      tags: [{ name: 'OAuth' }, { name: 'Providers' }, { name: 'Data' }, { name: 'Consents' }, { name: 'Webhooks' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          basic: { type: 'http', scheme: 'basic', description: 'The app’s client id and secret' },
        },
      },
    },
  });

  await app.register(metricsRoute, { metrics, token: config.metricsToken });
  await app.register(healthRoutes, { database, isShuttingDown: () => shuttingDown });
  // Fastify's `prefix` option mounts the plugin's routes under /assets.
  await app.register(assetRoutes, { directory: path.join(ROOT, 'assets'), prefix: '/assets' });
  await app.register(metadataRoute, { issuer });
  await app.register(connectRoute, {
    db: database.db,
    clock,
    issuer,
    flowStartPath: FLOW_START_PATH,
    providerExists: (id) => providers.get(id) !== undefined,
  });
  await app.register(tokenRoutes, { db: database.db, clock, tokens });
  await app.register(flowRoutes, { flow, database, providers, publicUrl: issuer, termsUrl: config.termsUrl, privacyUrl: config.privacyUrl, accounts: { identity, secureCookies } });
  await app.register(legalRoutes, { oneTimeRetentionMs: flow.oneTimeRetentionMs });
  await app.register(providerRoutes, { registry: providers });
  // The sandbox banks' own pages (redirect login, the app's approval): the hosted flow sends users there.
  await app.register(sandboxBankRoutes, { registry: providers, clock });
  // The simulated NextGenPSD2 bank: its API and its own pages, as a real bank's would be.
  if (config.sandbox) {
    await app.register(xs2aSandboxRoutes, { prefix: '/sandbox/xs2a', db: database.db, clock, pagesUrl: `${issuer}/sandbox/xs2a`, slowMs: providers.slowStepMs });
  }
  // One way to revoke a consent, for the app's API, the portal and My connections (src/consents/revoke.ts).
  const revoker = createConsentRevoker({ database, clock, providers, log: app.log, onErased: () => webhooks.nudge() });
  await app.register(consentRoutes, { database, clock, revoker });
  await app.register(webhookRoutes, { database, clock, onQueued: () => webhooks.nudge() });
  await app.register(dataRoutes, { database, clock, tokens, providers, paging, issuer, flowStartPath: FLOW_START_PATH });
  await app.register(docsRoutes);
  // Ferry accounts: My connections, sign-in, claiming (issue #6); the sandbox mailbox when no SMTP is configured.
  await app.register(accountRoutes, { identity, database, providers, secureCookies, termsUrl: config.termsUrl, privacyUrl: config.privacyUrl, revoker });
  if (mailboxServed) await app.register(sandboxMailboxRoutes, { db: database.db, termsUrl: config.termsUrl, privacyUrl: config.privacyUrl });
  else if (mailer.kind === 'none') app.log.warn('FERRY_SMTP_URL is not set and the sandbox is off: sign-in codes cannot be delivered (set FERRY_SMTP_URL and FERRY_MAIL_FROM)');
  // The developer portal (issue 9): its sign-in goes through the identity core (src/accounts/).
  await app.register(portalRoutes, {
    database,
    clock,
    publicUrl: issuer,
    sandbox: config.sandbox,
    portal: config.portal,
    identity,
    mailboxUrl: mailboxServed ? '/sandbox/mailbox' : null,
    onWebhookQueued: () => webhooks.nudge(),
    revoker,
  });
  if (config.demo) await app.register(demoRoutes, { db: database.db, clock, publicUrl: issuer });
  // Ferry's home page links the portal; registered last, and only if no other module serves '/'.
  if (!app.hasRoute({ method: 'GET', url: '/' })) await app.register(homeRoute, { demo: config.demo });

  return { app, services };
}

/**
 * Rate limits per IP on connect and token, and per client on token (clients share NATs, so the
 * per-client limit is the higher one). In memory per process for now.
 */
async function registerRateLimits(app: FastifyInstance, config: Config, db: FerryDatabase['db'], clock: Clock): Promise<void> {
  if (!config.rateLimits.enabled) return;
  const limits = config.rateLimits;
  // Shared by every process: in Redis when REDIS_URL is set, else in the database.
  if (config.redisUrl !== null) {
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    redis.on('error', (error) => app.log.warn({ err: { message: error.message } }, 'redis unavailable'));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
    await app.register(rateLimit, { global: false, redis, nameSpace: 'ferry-rate-limit:', skipOnError: true });
  } else {
    await app.register(rateLimit, { global: false, store: databaseRateLimitStore(db, clock), skipOnError: true });
  }
  // @fastify/rate-limit runs one limit per request; checkers let a route count against several.
  const limit = (max: number, key: (request: FastifyRequest) => string) => app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: key });
  const ip = (name: string) => (request: FastifyRequest) => `${name}:${request.ip}`;
  const checkers = {
    token: [limit(limits.tokenPerIp, ip('token-ip')), limit(limits.tokenPerClient, (r) => `token-client:${basicClientId(r.headers.authorization) ?? r.ip}`)],
    connect: [limit(limits.connectPerIp, ip('connect-ip'))],
    flow: [limit(limits.flowPerIp, ip('flow-ip'))],
  };
  const hook = (list: typeof checkers.token) => async (request: FastifyRequest, reply: FastifyReply) => {
    for (const check of list) {
      const result = await check(request);
      if (result.isAllowed === false && result.isExceeded) {
        reply.header('retry-after', String(result.ttlInSeconds));
        throw new SlowDown(`Too many requests: retry in ${result.ttlInSeconds} seconds.`);
      }
    }
  };
  const hooksFor = { token: [hook(checkers.token)], connect: [hook(checkers.connect)], flow: [hook(checkers.flow)] };
  app.addHook('onRoute', (route) => {
    const scope = route.config?.rateLimitScope;
    if (scope === undefined) return;
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...hooksFor[scope], ...existing] as typeof route.onRequest;
  });
}

function basicClientId(authorization: string | undefined): string | null {
  if (authorization === undefined || !/^basic /i.test(authorization)) return null;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, Math.min(colon, 200)) : null;
}

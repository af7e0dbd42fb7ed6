import path from 'node:path';

/**
 * Ferry's configuration, read once from the environment and validated as a whole:
 * every bad value is named in one error, so an operator fixes them all in one go.
 */
export interface Config {
  port: number;
  host: string;
  /** Base URL Ferry puts in redirects, `iss` and metadata. No trailing slash. */
  publicUrl: string;
  database: DatabaseConfig;
  logLevel: LogLevel;
  /** Serve the sandbox banks (on by default; turn off in production). */
  sandbox: boolean;
  /** Create the demo app on first start with an empty database. */
  demo: boolean;
  /** Value for Fastify's `trustProxy`: false, true, a hop count or a list of addresses. */
  trustProxy: boolean | number | string;
  /** How long a one-time consent's data may live after the flow finishes, in seconds (at most 24 h). */
  oneTimeRetentionSeconds: number;
  /** Links shown on the consent page; Ferry serves its own by default. */
  termsUrl: string | null;
  privacyUrl: string | null;
  rateLimits: RateLimitConfig;
  webhooks: WebhookConfig;
  /** Bearer token for /metrics; null: only loopback clients may scrape. */
  metricsToken: string | null;
  /** Redis for shared rate limits; null: they live in the database. */
  redisUrl: string | null;
  /** NextGenPSD2 banks (src/providers/nextgenpsd2/). */
  xs2a: Xs2aConfig;
  /** The developer portal (src/portal/). */
  portal: PortalConfig;
  /** Mail Ferry sends (sign-in codes of Ferry accounts, src/accounts/mailer.ts). */
  mail: MailSettings;
}

/** SMTP when configured; otherwise mail goes to the sandbox mailbox (/sandbox/mailbox). */
export interface MailSettings {
  /** FERRY_SMTP_URL: smtp:// or smtps:// with credentials; null: the sandbox mailbox. */
  smtpUrl: string | null;
  /** FERRY_MAIL_FROM: the From header; `Ferry <no-reply@host of PUBLIC_URL>` by default. */
  from: string;
}

/** Who may sign in to the developer portal at /portal. */
export interface PortalConfig {
  /** `open`: anyone with an email address; `closed`: invited addresses and operators only. */
  signup: 'open' | 'closed';
  /** Addresses that are operators (see and manage every app), lowercased; besides `ferry portal grant-operator`. */
  operators: string[];
}

/** Real banks over the Berlin Group NextGenPSD2 API, and where the simulated one is reached. */
export interface Xs2aConfig {
  /** The operator's banks file (JSON), read and checked at start; null: no real banks. */
  banksFile: string | null;
  /** The simulated bank's API root as Ferry calls it (Ferry itself over loopback by default). */
  sandboxUrl: string;
}

/** Webhook delivery (src/webhooks/). */
export interface WebhookConfig {
  /**
   * Deliver to private, loopback, link-local, CGNAT and unique-local addresses (a receiver inside
   * the operator's network). Off by default: no SSRF through a webhook URL. Loopback is allowed
   * anyway while the sandbox is on; cloud metadata addresses are never allowed.
   */
  allowPrivate: boolean;
  /** How long one try may take, connection and answer included (10 s by default). */
  timeoutMs: number;
}

/** Requests per minute; `enabled: false` turns every limit off (benchmarks, trusted networks). */
export interface RateLimitConfig {
  enabled: boolean;
  tokenPerClient: number;
  tokenPerIp: number;
  connectPerIp: number;
  /** Form posts in the hosted flow (bank logins) per IP. */
  flowPerIp: number;
}

export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'postgres'; url: string; poolSize: number };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PORT = 3000;
export const DEFAULT_DB_FILE = path.join('data', 'ferry.sqlite');
export const MAX_ONE_TIME_RETENTION_SECONDS = 24 * 60 * 60;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads the environment into a {@link Config}; throws one {@link ConfigError} naming every bad value. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const port = read.integer('PORT', DEFAULT_PORT, 0, 65535);
  const host = read.string('HOST', 'localhost');
  const publicUrl = read.url('PUBLIC_URL', `http://localhost:${port}`);
  const databaseUrl = read.optional('DATABASE_URL');
  let database: DatabaseConfig;
  if (databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use SQLite)');
    }
    database = { dialect: 'postgres', url: databaseUrl, poolSize: read.integer('DATABASE_POOL_SIZE', 10, 1, 1000) };
  } else {
    database = { dialect: 'sqlite', file: read.string('FERRY_DB_FILE', DEFAULT_DB_FILE) };
  }
  const logLevel = read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const sandbox = read.boolean('FERRY_SANDBOX', true);
  const demo = read.boolean('FERRY_DEMO', true);
  const trustProxy = read.trustProxy('FERRY_TRUST_PROXY');
  const retentionSeconds = read.duration('FERRY_ONE_TIME_RETENTION', MAX_ONE_TIME_RETENTION_SECONDS, 1, MAX_ONE_TIME_RETENTION_SECONDS);
  const termsUrl = read.optionalUrl('FERRY_TERMS_URL');
  const privacyUrl = read.optionalUrl('FERRY_PRIVACY_URL');
  const metricsToken = read.optional('FERRY_METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 16) problems.push('FERRY_METRICS_TOKEN must be at least 16 characters');
  const rateLimits: RateLimitConfig = {
    enabled: read.boolean('FERRY_RATE_LIMITS', true),
    tokenPerClient: read.integer('FERRY_RATE_LIMIT_TOKEN_PER_CLIENT', 1200, 1, 10_000_000),
    tokenPerIp: read.integer('FERRY_RATE_LIMIT_TOKEN_PER_IP', 600, 1, 10_000_000),
    connectPerIp: read.integer('FERRY_RATE_LIMIT_CONNECT_PER_IP', 300, 1, 10_000_000),
    flowPerIp: read.integer('FERRY_RATE_LIMIT_FLOW_PER_IP', 120, 1, 10_000_000),
  };
  const redisUrl = read.optional('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must be a redis:// or rediss:// URL');

  const webhooks: WebhookConfig = {
    allowPrivate: read.boolean('FERRY_WEBHOOK_ALLOW_PRIVATE', false),
    timeoutMs: read.integer('FERRY_WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60) * 1000,
  };

  const loopbackHost = ['localhost', '0.0.0.0', '::', '127.0.0.1'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const xs2a: Xs2aConfig = {
    banksFile: read.optional('FERRY_XS2A_BANKS') ?? null,
    sandboxUrl: (read.optionalUrl('FERRY_XS2A_SANDBOX_URL') ?? `http://${loopbackHost}:${port}/sandbox/xs2a`).replace(/\/+$/, ''),
  };

  const smtpUrl = read.optional('FERRY_SMTP_URL') ?? null;
  if (smtpUrl !== null && !/^smtps?:\/\/[^/]/.test(smtpUrl)) problems.push('FERRY_SMTP_URL must be an smtp:// or smtps:// URL, like smtps://user:password@mail.example.com:465');
  const mailFrom = read.optional('FERRY_MAIL_FROM') ?? `Ferry <no-reply@${hostOf(publicUrl)}>`;
  if (/[\r\n]/.test(mailFrom) || !/@/.test(mailFrom)) problems.push('FERRY_MAIL_FROM must be one address, like "Ferry <no-reply@example.com>"');
  if (smtpUrl !== null && read.optional('FERRY_MAIL_FROM') === undefined) problems.push('FERRY_MAIL_FROM must be set with FERRY_SMTP_URL (the address mail is sent from)');

  const portal: PortalConfig = {
    signup: read.oneOf('FERRY_PORTAL_SIGNUP', ['open', 'closed'] as const, 'open'),
    operators: (read.optional('FERRY_PORTAL_OPERATORS') ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== ''),
  };
  for (const email of portal.operators) {
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) problems.push(`FERRY_PORTAL_OPERATORS must be a comma-separated list of email addresses (got ${JSON.stringify(email)})`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    database,
    logLevel,
    sandbox,
    demo,
    trustProxy,
    oneTimeRetentionSeconds: retentionSeconds,
    termsUrl,
    privacyUrl,
    rateLimits,
    webhooks,
    metricsToken,
    redisUrl,
    xs2a,
    portal,
    mail: { smtpUrl, from: mailFrom },
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return Number(raw);
  }

  /** A duration: `24h`, `30m`, `90s`, or plain seconds. */
  duration(name: string, fallbackSeconds: number, minSeconds: number, maxSeconds: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallbackSeconds;
    const match = /^(\d+(?:\.\d+)?)\s*(h|m|s)?$/.exec(raw);
    const seconds = match === null ? NaN : Number(match[1]) * { h: 3600, m: 60, s: 1 }[(match[2] ?? 's') as 'h' | 'm' | 's'];
    if (!Number.isFinite(seconds) || seconds < minSeconds || seconds > maxSeconds) {
      this.problems.push(`${name} must be a duration from ${minSeconds}s to ${maxSeconds / 3600}h, like 24h, 30m or 90s (got ${JSON.stringify(raw)})`);
      return fallbackSeconds;
    }
    return Math.round(seconds);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got ${JSON.stringify(raw)})`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${values.join(', ')} (got ${JSON.stringify(raw)})`);
    return fallback;
  }

  url(name: string, fallback: string): string {
    return this.optionalUrl(name) ?? fallback;
  }

  optionalUrl(name: string): string | null {
    const raw = this.optional(name);
    if (raw === undefined) return null;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      if (url.search || url.hash) throw new Error('query');
      return raw;
    } catch {
      this.problems.push(`${name} must be an absolute http(s) URL without query or fragment (got ${JSON.stringify(raw)})`);
      return null;
    }
  }

  trustProxy(name: string): boolean | number | string {
    const raw = this.optional(name);
    if (raw === undefined) return false;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (/^\d+$/.test(raw)) return Number(raw);
    return raw;
  }
}

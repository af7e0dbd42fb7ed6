import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { SANDBOX_BANKS } from './sandbox/banks.js';
import { SandboxBankLogins } from './sandbox/bank-logins.js';
import { DEFAULT_SLOW_STEP_MS, SandboxBankProvider } from './sandbox/sandbox-bank.js';
import { sandboxXs2aBanks } from './sandbox/xs2a/sandbox-xs2a-banks.js';
import type { Xs2aLog } from './nextgenpsd2/consent-login.js';
import { NextGenPsd2Provider } from './nextgenpsd2/nextgenpsd2-provider.js';
import type { BankProvider } from './types.js';

export interface ProviderRegistryOptions {
  db: Kysely<Database>;
  /** Register the sandbox banks (config `FERRY_SANDBOX`); off in production. */
  sandbox: boolean;
  /** Ferry's public base URL, no trailing slash: logos are served under it. */
  publicUrl: string;
  /** How long each step of the sandbox's `slow` user takes (default 3 s; tests make it short). */
  slowStepMs?: number;
  /** More providers (real bank connectors; test doubles), after the sandbox banks. */
  providers?: readonly BankProvider[];
  /**
   * With the sandbox: the simulated NextGenPSD2 bank's API root as Ferry calls it (config
   * `FERRY_XS2A_SANDBOX_URL`), to list its three entries (redirect, app, embedded). Unset: not listed.
   */
  xs2aSandboxUrl?: string;
  /** Where NextGenPSD2 providers report what an operator must see (a bank refusing Ferry's certificate). */
  log?: Xs2aLog;
}

export interface ProviderRegistry {
  readonly sandbox: boolean;
  readonly publicUrl: string;
  /** How long each step of the sandbox's `slow` user takes (the simulated NextGenPSD2 bank's too). */
  readonly slowStepMs: number;
  get(id: string): BankProvider | undefined;
  /** Every registered provider, in a stable order (Aiia's test banks first). */
  list(): BankProvider[];
  /** The sandbox bank behind an id, for its own pages; undefined for any other provider. */
  sandboxBank(id: string): SandboxBankProvider | undefined;
}

/** Builds the registry once at start-up; its options are checked here, not per request. */
export function createProviderRegistry(options: ProviderRegistryOptions): ProviderRegistry {
  const slowStepMs = options.slowStepMs ?? DEFAULT_SLOW_STEP_MS;
  if (!Number.isFinite(slowStepMs) || slowStepMs < 0) throw new Error(`slowStepMs must be a non-negative number (got ${slowStepMs})`);
  const publicUrl = options.publicUrl.replace(/\/+$/, '');

  const providers: BankProvider[] = [];
  const sandboxBanks = new Map<string, SandboxBankProvider>();
  if (options.sandbox) {
    const logins = new SandboxBankLogins(options.db);
    for (const bank of SANDBOX_BANKS) {
      const provider = new SandboxBankProvider(bank, { logins, slowStepMs });
      providers.push(provider);
      sandboxBanks.set(bank.id, provider);
    }
    if (options.xs2aSandboxUrl !== undefined) {
      for (const bank of sandboxXs2aBanks(options.xs2aSandboxUrl)) providers.push(new NextGenPsd2Provider(bank, { db: options.db, log: options.log }));
    }
  }
  providers.push(...(options.providers ?? []));

  const byId = new Map<string, BankProvider>();
  for (const provider of providers) {
    const id = provider.describe().id;
    if (byId.has(id)) throw new Error(`two providers have the id ${id}`);
    byId.set(id, provider);
  }

  return {
    sandbox: options.sandbox,
    publicUrl,
    slowStepMs,
    get: (id) => byId.get(id),
    list: () => [...providers],
    sandboxBank: (id) => sandboxBanks.get(id),
  };
}

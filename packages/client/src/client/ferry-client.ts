import { parseCallback, type CallbackInput, type CallbackResult } from './callback.js';
import { FerryApiError } from './errors.js';
import { FerryHttp, type Credentials, type FetchLike } from './http.js';
import { createPkce, randomString } from './pkce.js';
import { TokenSession, type AccessTokenProvider, type FerryTokens, type TokenSessionOptions } from './token-session.js';
import { TransactionPages } from './transaction-pages.js';
import type {
  Account,
  ConnectQuery,
  Consent,
  Provider,
  TokenResponse,
  Transaction,
  TransactionPage,
  TransactionQueryBody,
  UpdateResult,
  WebhookDelivery,
  WebhookDeliveryFilter,
} from './types.js';

export interface FerryClientOptions {
  /** Where Ferry is, e.g. `https://ferry.example.com` (a path prefix is kept). */
  baseUrl: string;
  clientId: string;
  /** Needed for the token endpoint and the app endpoints; building a connect URL needs none. */
  clientSecret?: string;
  /** The issuer to expect in callbacks (RFC 9207): Ferry's PUBLIC_URL. Default: `baseUrl`. */
  issuer?: string;
  /** Your own fetch (logging, a proxy, an in-process transport); the global one by default. */
  fetch?: FetchLike;
  /** Abort a request after this long (default 30 s); null for never. */
  timeoutMs?: number | null;
  /** The current time in ms, for `expiresAt` (tests move it). */
  now?: () => number;
}

/** `accounts`: the one-time flow (everything deleted within 24 h); with `offline_access`: the regular flow. */
export type ConnectScope = 'accounts' | 'accounts offline_access';

export interface ConnectUrlOptions {
  /** A redirect URI registered for the app; the code is bound to it. */
  redirectUri: string;
  scope: ConnectScope;
  /** Generated (256 bits) when not given. Keep it in the user's session to check the callback. */
  state?: string;
  /** Generated when not given (RFC 7636 §4.1). Keep it in the user's session for the exchange. */
  codeVerifier?: string;
  /** The flow's language: en, da, sv, nb, fi, de. */
  culture?: string;
  /** Skip the bank list and go straight to this bank. */
  providerId?: string;
  email?: string;
  consentId?: string;
  /** Every account pre-selected. */
  selectAllAccounts?: boolean;
  accountsGroupId?: string;
  accountsGroupName?: string;
  /** With `providerId`: BBANs or IBANs the user must share. */
  bankAccountNumbers?: string[];
}

export interface ConnectUrl {
  /** Send the user's browser here. */
  url: string;
  state: string;
  codeVerifier: string;
}

/** An access token, or something that hands out current ones (a {@link TokenSession}). */
export type AccessToken = string | AccessTokenProvider;

/** A transaction query; `interval` as Ferry's ISO-8601 `start/end` string, or as two instants. */
export type TransactionQuery = Pick<TransactionQueryBody, 'pageSize' | 'amountValueBetween' | 'balanceValueBetween'> & {
  interval?: string | { start: Date | string; end: Date | string };
};

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A client for Ferry (and Aiia Data, whose wire protocol Ferry speaks). One per app, shared by
 * every request; it keeps no user state (a {@link TokenSession} keeps one user's tokens).
 *
 *     const ferry = new FerryClient({ baseUrl, clientId, clientSecret });
 *     const { url, state, codeVerifier } = await ferry.createConnectUrl({ redirectUri, scope: 'accounts' });
 *     // … the user comes back to redirectUri …
 *     const { code } = ferry.parseCallback(request.url, { state });
 *     const session = ferry.session(await ferry.exchangeCode({ code, redirectUri, codeVerifier }), { onTokens: save });
 *     for (const account of await ferry.listAccounts(session))
 *       for await (const transaction of ferry.transactions(session, account.id)) …
 */
export class FerryClient {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly #clientSecret: string | undefined;
  readonly #http: FerryHttp;
  readonly #now: () => number;

  constructor(options: FerryClientOptions) {
    if (!/^https?:\/\//i.test(options.baseUrl ?? '')) throw new TypeError('FerryClient needs baseUrl, an http(s) URL such as https://ferry.example.com.');
    if (!options.clientId) throw new TypeError('FerryClient needs the app’s clientId.');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.clientId = options.clientId;
    this.issuer = (options.issuer ?? this.baseUrl).replace(/\/+$/, '');
    this.#clientSecret = options.clientSecret;
    const fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.#http = new FerryHttp(this.baseUrl, fetchImpl, options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : options.timeoutMs);
    this.#now = options.now ?? Date.now;
  }

  // ── Connect and tokens (aiia-api.md §1–3) ─────────────────────────────────────────────────

  /** The connect URL to send the user to, with state and PKCE (S256, RFC 7636) always. */
  async createConnectUrl(options: ConnectUrlOptions): Promise<ConnectUrl> {
    const state = options.state ?? randomString(32);
    const pkce = await createPkce(options.codeVerifier);
    const query: ConnectQuery = {
      client_id: this.clientId,
      redirect_uri: options.redirectUri,
      response_type: 'code',
      scope: options.scope,
      state,
      code_challenge: pkce.codeChallenge,
      code_challenge_method: pkce.codeChallengeMethod,
      culture: options.culture,
      providerId: options.providerId,
      email: options.email,
      consentId: options.consentId,
      select_all_accounts: options.selectAllAccounts === undefined ? undefined : options.selectAllAccounts ? 'true' : 'false',
      accountsGroupId: options.accountsGroupId,
      accountsGroupName: options.accountsGroupName,
      bank_account_numbers: options.bankAccountNumbers?.join(','),
    };
    const url = this.#http.url('get', '/v1/oauth/connect', { query });
    return { url: url.toString(), state, codeVerifier: pkce.codeVerifier };
  }

  /**
   * Checks where the user came back (issuer, then state) and returns the code; throws a
   * {@link FerryAuthorizationError}: `access_denied` when they cancelled, `state_mismatch`, ….
   */
  parseCallback(callback: CallbackInput, expected: { state: string }): CallbackResult {
    return parseCallback(callback, { state: expected.state, issuer: this.issuer });
  }

  /** Trades the callback's code for tokens (within 60 s, once). */
  async exchangeCode(options: { code: string; redirectUri: string; codeVerifier: string }): Promise<FerryTokens> {
    const response = await this.#http.call('post', '/v1/oauth/token', {
      credentials: this.#appCredentials(),
      errors: 'oauth',
      body: { grant_type: 'authorization_code', code: options.code, redirect_uri: options.redirectUri, code_verifier: options.codeVerifier },
    });
    return this.#tokensFrom(response);
  }

  /**
   * New tokens for a refresh token. The one presented is spent: keep the new one, and never
   * present a spent one (that revokes the grant). {@link session} does both for you.
   */
  async refresh(refreshToken: string): Promise<FerryTokens> {
    const response = await this.#http.call('post', '/v1/oauth/token', {
      credentials: this.#appCredentials(),
      errors: 'oauth',
      body: { grant_type: 'refresh_token', refresh_token: refreshToken },
    });
    return this.#tokensFrom(response);
  }

  /** Revokes the grant behind an access or refresh token (RFC 7009; Ferry's addition to Aiia's protocol). */
  async revokeToken(token: string): Promise<void> {
    await this.#http.call('post', '/v1/oauth/revoke', { credentials: this.#appCredentials(), errors: 'oauth', body: { token } });
  }

  /** Keeps one user's tokens: refreshes before they expire, keeps the rotated refresh token, one refresh at a time. */
  session(tokens: FerryTokens, options: TokenSessionOptions = {}): TokenSession {
    return new TokenSession((refreshToken) => this.refresh(refreshToken), tokens, options);
  }

  // ── Data (aiia-api.md §4), with the user's access token ─────────────────────────────────

  async listAccounts(auth: AccessToken): Promise<Account[]> {
    return (await this.#http.call('get', '/v1/accounts', { credentials: await bearer(auth), errors: 'bearer' })).accounts;
  }

  async getAccount(auth: AccessToken, accountId: string): Promise<Account> {
    return this.#http.call('get', '/v1/accounts/{accountId}', { credentials: await bearer(auth), errors: 'bearer', path: { accountId } });
  }

  /** Every transaction of the account, newest first, fetched page by page as you iterate. */
  transactions(auth: AccessToken, accountId: string, options: { pageSize?: number } = {}): TransactionPages {
    return new TransactionPages((pagingToken) => this.getTransactionPage(auth, accountId, { ...options, pagingToken }));
  }

  /** One page, for apps that keep the paging token themselves. */
  async getTransactionPage(auth: AccessToken, accountId: string, options: { pageSize?: number; pagingToken?: string | null } = {}): Promise<TransactionPage> {
    return this.#http.call('get', '/v1/accounts/{accountId}/transactions', {
      credentials: await bearer(auth),
      errors: 'bearer',
      path: { accountId },
      query: { pageSize: options.pageSize, pagingToken: options.pagingToken ?? undefined },
    });
  }

  /** The transactions matching a query, every page as you iterate. */
  queryTransactions(auth: AccessToken, accountId: string, query: TransactionQuery = {}, options: { includeDeleted?: boolean } = {}): TransactionPages {
    return new TransactionPages((pagingToken) => this.queryTransactionPage(auth, accountId, { ...query, pagingToken }, options));
  }

  async queryTransactionPage(
    auth: AccessToken,
    accountId: string,
    query: TransactionQuery & { pagingToken?: string | null },
    options: { includeDeleted?: boolean } = {},
  ): Promise<TransactionPage> {
    const { interval, ...rest } = query;
    const body: TransactionQueryBody = { ...rest, ...(interval !== undefined ? { interval: formatInterval(interval) } : {}) };
    return this.#http.call('post', '/v1/accounts/{accountId}/transactions/query', {
      credentials: await bearer(auth),
      errors: 'bearer',
      path: { accountId },
      query: { includeDeleted: options.includeDeleted },
      body,
    });
  }

  async getTransaction(auth: AccessToken, accountId: string, transactionId: string): Promise<Transaction> {
    return this.#http.call('get', '/v1/accounts/{accountId}/transactions/{transactionId}', { credentials: await bearer(auth), errors: 'bearer', path: { accountId, transactionId } });
  }

  /**
   * Asks for fresh data: `AllQueued`, or `SupervisedLoginRequired` with an `authUrl` to send the
   * user to (they come back to `redirectUrl`, a registered redirect URI).
   */
  async requestUpdate(auth: AccessToken, options: { redirectUrl?: string } = {}): Promise<UpdateResult> {
    return this.#http.call('post', '/v1/update', { credentials: await bearer(auth), errors: 'bearer', body: { redirectUrl: options.redirectUrl } });
  }

  /** Whether the user shared every account the bank offered. */
  async allAccountsSelected(auth: AccessToken, consentId: string): Promise<boolean> {
    const answer = await this.#http.call('get', '/v1/consent/{consentId}/all-accounts-selected', { credentials: await bearer(auth), errors: 'bearer', path: { consentId } });
    return answer.allAccountsSelected;
  }

  // ── The app's own view, with its client credentials ─────────────────────────────────────

  /** A consent of this app: its status, scopes and deadline; after erasure, its deletion receipt. */
  async getConsent(consentId: string): Promise<Consent> {
    return this.#http.call('get', '/v1/consents/{consentId}', { credentials: this.#appCredentials(), errors: 'app', path: { consentId } });
  }

  /** Ends the consent and erases its data now; answers the deletion receipt (also for one already erased). */
  async revokeConsent(consentId: string): Promise<Consent> {
    return this.#http.call('delete', '/v1/consents/{consentId}', { credentials: this.#appCredentials(), errors: 'app', path: { consentId } });
  }

  /** Recent webhook deliveries, newest first. */
  async listWebhookDeliveries(filter: WebhookDeliveryFilter = {}): Promise<WebhookDelivery[]> {
    return (await this.#http.call('get', '/v1/webhooks/deliveries', { credentials: this.#appCredentials(), errors: 'app', query: filter })).deliveries;
  }

  async getWebhookDelivery(deliveryId: string): Promise<WebhookDelivery> {
    return this.#http.call('get', '/v1/webhooks/deliveries/{deliveryId}', { credentials: this.#appCredentials(), errors: 'app', path: { deliveryId } });
  }

  /** Sends a delivery's event again, with the same event id. */
  async redeliverWebhook(deliveryId: string): Promise<WebhookDelivery> {
    return this.#http.call('post', '/v1/webhooks/deliveries/{deliveryId}/redeliver', { credentials: this.#appCredentials(), errors: 'app', path: { deliveryId } });
  }

  /** Sends a signed `WebhookTest` event to the app's webhook URL. */
  async sendTestWebhook(): Promise<WebhookDelivery> {
    return this.#http.call('post', '/v1/webhooks/test', { credentials: this.#appCredentials(), errors: 'app' });
  }

  // ── Banks (public) ───────────────────────────────────────────────────────────────────────

  async listProviders(options: { countryCode?: string } = {}): Promise<Provider[]> {
    return (await this.#http.call('get', '/v2/providers', { credentials: { kind: 'none' }, errors: 'plain', query: options })).providers;
  }

  async getProvider(providerId: string): Promise<Provider> {
    return this.#http.call('get', '/v2/providers/{providerId}', { credentials: { kind: 'none' }, errors: 'plain', path: { providerId } });
  }

  #appCredentials(): Credentials {
    if (this.#clientSecret === undefined) throw new TypeError('This call authenticates the app: create the FerryClient with clientSecret (server side only).');
    return { kind: 'basic', clientId: this.clientId, clientSecret: this.#clientSecret };
  }

  #tokensFrom(response: TokenResponse): FerryTokens {
    if (typeof response?.access_token !== 'string' || typeof response.refresh_token !== 'string' || typeof response.expires_in !== 'number') {
      throw new FerryApiError({ error: 'invalid_response', errorDescription: 'The token answer lacks access_token, refresh_token or expires_in.', status: 200, operation: 'POST /v1/oauth/token' });
    }
    return {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      expiresAt: this.#now() + response.expires_in * 1000,
      tokenType: 'bearer',
      redirectUri: response.redirect_uri ?? null,
    };
  }
}

async function bearer(auth: AccessToken): Promise<Credentials> {
  const accessToken = typeof auth === 'string' ? auth : await auth.getAccessToken();
  return { kind: 'bearer', accessToken };
}

function formatInterval(interval: NonNullable<TransactionQuery['interval']>): string {
  if (typeof interval === 'string') return interval;
  const instant = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);
  return `${instant(interval.start)}/${instant(interval.end)}`;
}

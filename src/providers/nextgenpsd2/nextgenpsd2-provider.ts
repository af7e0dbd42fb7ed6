import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { parseIsoDate } from '../sandbox/calendar.js';
import {
  BankAnswerInvalidError,
  BankUnavailableError,
  ConnectionExpiredError,
  ConnectionMismatchError,
  InvalidDateRangeError,
  MalformedConnectionError,
  RateLimitedError,
  UnknownAccountError,
} from '../errors.js';
import type {
  AccessLimits,
  BankAccount,
  BankProvider,
  BankTransaction,
  FetchContext,
  LoginContext,
  LoginInput,
  LoginMethod,
  LoginState,
  LoginStep,
  ProviderConnection,
  ProviderDescription,
} from '../types.js';
import { AccessBudget, BUDGET_WINDOW_MS } from './access-budget.js';
import { bankAgent, loadXs2aBanks, type Xs2aBank } from './bank-config.js';
import { ConsentLogin, isoDay, type Xs2aConnectionData, type Xs2aLog } from './consent-login.js';
import { newestFirst, stableAccountId, toBankAccount, toBankTransaction } from './mapping.js';
import type { OpenApiContract } from './openapi-contract.js';
import { psuHeaders } from './psu-headers.js';
import { Xs2aClient, bankCodes, retryAfter, type Xs2aExchange, type Xs2aResponse } from './xs2a-client.js';
import type { AccountDetails, Balance, ConsentStatus, Links, TransactionsAnswer } from './xs2a-model.js';

/**
 * A bank that speaks the Berlin Group's NextGenPSD2 access-to-account API, as a Ferry provider: the
 * login is a consent and its strong customer authentication (consent-login.ts); the data are the
 * account list, balances and transactions (`bookingStatus=both`, every page of `_links.next`).
 *
 * Reads the user makes in the hosted flow carry the `PSU-*` headers and are free; every other read
 * is counted against the consent's `frequencyPerDay` before it is made (access-budget.ts), and is
 * refused with `RateLimitedError` rather than spend a read the bank would refuse or count.
 */

export interface NextGenPsd2Deps {
  db: Kysely<Database>;
  /** The Berlin Group's OpenAPI file (the default); tests may watch each exchange. */
  contract?: OpenApiContract;
  onExchange?: (exchange: Xs2aExchange) => void;
  log?: Xs2aLog;
}

const METHODS: Record<Xs2aBank['approaches'][number], LoginMethod> = { REDIRECT: 'Redirect', DECOUPLED: 'Decoupled', EMBEDDED: 'PasswordAndOtp' };
/** More pages than this is a bank going round in circles. */
const MAX_PAGES = 5_000;

export class NextGenPsd2Provider implements BankProvider {
  private readonly client: Xs2aClient;
  private readonly login: ConsentLogin;
  private readonly budget: AccessBudget;

  constructor(
    readonly bank: Xs2aBank,
    deps: NextGenPsd2Deps,
  ) {
    const endpoint = { baseUrl: bank.baseUrl, timeoutMs: bank.timeoutMs, agent: bankAgent(bank), signing: bank.signing };
    this.client = new Xs2aClient(endpoint, deps.contract, deps.onExchange);
    this.login = new ConsentLogin(bank, this.client, deps.log);
    this.budget = new AccessBudget(deps.db);
  }

  describe(): ProviderDescription {
    return {
      id: this.bank.id,
      name: this.bank.name,
      countryCode: this.bank.country,
      currency: this.bank.currency,
      logoUrl: this.bank.logoUrl,
      status: this.bank.status,
      loginMethods: this.bank.approaches.map((a) => METHODS[a]),
      requiresSupervisedUpdate: false,
    };
  }

  logoSvg(): string {
    return this.bank.logoSvg;
  }

  startLogin(ctx: LoginContext): Promise<LoginStep> {
    return this.login.start(ctx);
  }

  continueLogin(state: LoginState, input: LoginInput, ctx: LoginContext): Promise<LoginStep> {
    return this.login.continue(state, input, ctx);
  }

  accessLimits(connection: ProviderConnection): AccessLimits {
    const data = this.data(connection);
    return { unattendedReadsPerDay: data.frequencyPerDay, expiresAt: endOfDay(data.validUntil) };
  }

  async listAccounts(connection: ProviderConnection, ctx: FetchContext): Promise<BankAccount[]> {
    const data = this.data(connection);
    const read = this.reader(connection.reference, data, ctx);
    await read.spend('accounts');
    const answer = await read.send({ path: '/v1/accounts' }, this.bank.features.withBalance ? { withBalance: 'true' } : {});
    const accounts = ((answer.body as { accounts: AccountDetails[] }).accounts ?? []).filter((a) => a.status !== 'deleted');
    const out: BankAccount[] = [];
    for (const account of accounts) {
      let balances: Balance[] | undefined = account.balances;
      if (balances === undefined && account.resourceId !== undefined) {
        await read.spend(`balances:${stableAccountId(this.bank.id, account)}`);
        const answer = await read.send({ path: `/v1/accounts/${encodeURIComponent(account.resourceId)}/balances` });
        balances = (answer.body as { balances: Balance[] }).balances;
      }
      out.push(toBankAccount(this.bank.id, account, balances ?? []));
    }
    return out;
  }

  async fetchTransactions(connection: ProviderConnection, accountId: string, range: { from: string; to: string }, ctx: FetchContext): Promise<BankTransaction[]> {
    const data = this.data(connection);
    const from = parseIsoDate(String(range.from));
    const to = parseIsoDate(String(range.to));
    if (from === null || to === null) throw new InvalidDateRangeError(`range must be two YYYY-MM-DD dates (got ${JSON.stringify(range)})`);
    const resourceId = data.accounts.find(([id]) => id === accountId)?.[1];
    if (resourceId === undefined) throw new UnknownAccountError('account is not one of this connection’s accounts');
    const today = isoDay(ctx.now());
    // Banks keep a limited history: ask for no more than they hold.
    const dateFrom = maxDate(range.from, isoDay(ctx.now() - this.bank.historyDays * 86_400_000));
    const read = this.reader(connection.reference, data, ctx);
    await read.spend(`transactions:${accountId}`);

    const booked: BankTransaction[] = [];
    const pending: BankTransaction[] = [];
    const seenLinks = new Set<string>();
    let answer = await read.send({ path: `/v1/accounts/${encodeURIComponent(resourceId)}/transactions` }, {
      bookingStatus: this.bank.features.bookingStatusBoth ? 'both' : 'booked',
      dateFrom,
      dateTo: range.to,
    });
    for (let page = 0; ; page++) {
      const report = (answer.body as TransactionsAnswer).transactions;
      report?.booked?.forEach((t, i) => booked.push(toBankTransaction(t, 'Booked', today, `page ${page} booked/${i}`)));
      report?.pending?.forEach((t, i) => pending.push(toBankTransaction(t, 'Reserved', today, `page ${page} pending/${i}`)));
      const next = (report?._links as Links | undefined)?.next?.href;
      if (next === undefined) break;
      if (seenLinks.has(next) || page >= MAX_PAGES) throw new BankAnswerInvalidError('the bank’s pages go round in circles', ['_links.next: a page links to one already read']);
      seenLinks.add(next);
      answer = await read.send({ href: next });
    }
    return newestFirst(booked, pending).filter((t) => t.date >= range.from && t.date <= range.to);
  }

  /**
   * Ends the consent at the bank (`DELETE /v1/consents/{consentId}`), when the user revokes it in
   * Ferry or its data is erased: the bank then refuses every read with it. A consent the bank no
   * longer knows, or one that already ended, is ended.
   */
  async revokeConnection(connection: ProviderConnection, ctx: FetchContext): Promise<void> {
    this.data(connection);
    const headers = ctx.userPresent === true ? psuHeaders(ctx.psu, this.bank.tppIpAddress) : {};
    const answer = await this.client.send({ method: 'DELETE', target: { path: `/v1/consents/${encodeURIComponent(connection.reference)}` }, headers });
    if (answer.status === 204) return;
    const codes = bankCodes(answer.body);
    if (['CONSENT_UNKNOWN', 'CONSENT_EXPIRED', 'CONSENT_INVALID', 'RESOURCE_UNKNOWN', 'RESOURCE_EXPIRED'].some((c) => codes.includes(c))) return;
    if (answer.status === 429) throw new RateLimitedError(`${this.bank.name} refuses calls for now (429)`, retryAfter(answer.headers, ctx.now()) ?? ctx.now() + 3_600_000, 'bank');
    throw new BankUnavailableError(`${this.bank.name} refused to end the consent (${answer.status}${codes.length > 0 ? ` ${codes.join(', ')}` : ''})`, { status: answer.status, codes, cause: 'Refused' });
  }

  /** Reads under one connection: the PSU headers when the user is present, the budget when not. */
  private reader(consentId: string, data: Xs2aConnectionData, ctx: FetchContext) {
    const present = ctx.userPresent === true;
    const now = ctx.now();
    if (isoDay(now) > data.validUntil) throw new ConnectionExpiredError(`the consent at ${this.bank.name} ended on ${data.validUntil}`, 'Expired');
    const headers = { 'consent-id': consentId, ...(present ? psuHeaders(ctx.psu, this.bank.tppIpAddress) : {}) };
    const key = AccessBudget.consentKey(this.bank.id, consentId);
    return {
      spend: async (resource: string) => {
        if (!present) await this.budget.spend(key, resource, data.frequencyPerDay, now);
      },
      send: async (target: { path: string } | { href: string }, query: Record<string, string> = {}): Promise<Xs2aResponse> => {
        const answer = await this.client.send({ method: 'GET', target, query, headers });
        if (answer.status !== 200) await this.refusal(answer, consentId, data, now);
        return answer;
      },
    };
  }

  /** A refused read, as the error the sync acts on. */
  private async refusal(answer: Xs2aResponse, consentId: string, data: Xs2aConnectionData, now: number): Promise<never> {
    const codes = bankCodes(answer.body);
    if (answer.status === 429) {
      throw new RateLimitedError(`${this.bank.name} refuses more reads for now (429${codes.length > 0 ? ` ${codes.join(', ')}` : ''})`, retryAfter(answer.headers, now) ?? now + BUDGET_WINDOW_MS / data.frequencyPerDay, 'bank');
    }
    if (codes.includes('CONSENT_EXPIRED')) throw new ConnectionExpiredError(`the consent at ${this.bank.name} has expired`, 'Expired');
    if (codes.includes('CONSENT_UNKNOWN') || codes.includes('CONSENT_INVALID')) {
      // Why: the consent's status tells a revocation at the bank from an expiry (not a data read).
      const status = await this.client
        .send({ method: 'GET', target: { path: `/v1/consents/${encodeURIComponent(consentId)}/status` } })
        .then((s) => (s.status === 200 ? (s.body as { consentStatus: ConsentStatus }).consentStatus : null))
        .catch(() => null);
      const reason = status === 'revokedByPsu' || status === 'terminatedByTpp' ? 'Revoked' : status === 'expired' ? 'Expired' : 'Invalid';
      throw new ConnectionExpiredError(`the consent at ${this.bank.name} no longer allows reads (${status ?? codes.join(', ')})`, reason);
    }
    throw new BankUnavailableError(`${this.bank.name} refused a read (${answer.status}${codes.length > 0 ? ` ${codes.join(', ')}` : ''})`, { status: answer.status, codes, cause: 'Refused' });
  }

  private data(connection: ProviderConnection): Xs2aConnectionData {
    if (connection.providerId !== this.bank.id) throw new ConnectionMismatchError(`connection belongs to ${String(connection.providerId)}, not ${this.bank.id}`);
    const data = connection.data as Partial<Xs2aConnectionData> | undefined;
    const ok =
      typeof connection.reference === 'string' &&
      connection.reference.length > 0 &&
      connection.reference.length <= 200 &&
      data?.v === 1 &&
      typeof data.validUntil === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(data.validUntil) &&
      Number.isInteger(data.frequencyPerDay) &&
      data.frequencyPerDay! >= 1 &&
      Array.isArray(data.accounts) &&
      data.accounts.every((pair) => Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string');
    if (!ok) throw new MalformedConnectionError(`connection is not one ${this.bank.id} made`);
    return data as Xs2aConnectionData;
  }
}

function maxDate(a: string, b: string): string {
  return a > b ? a : b;
}

/** The end of the consent's last day, UTC (banks use their local date; a few hours either way). */
function endOfDay(day: string): number | null {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) ? ms + 86_400_000 : null;
}

/** The operator's banks (`FERRY_XS2A_BANKS`), read and checked now: a bad entry stops the start. */
export function configuredXs2aProviders(file: string | null, deps: NextGenPsd2Deps): NextGenPsd2Provider[] {
  return file === null ? [] : loadXs2aBanks(file).map((bank) => new NextGenPsd2Provider(bank, deps));
}

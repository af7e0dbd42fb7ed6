import { isDeepStrictEqual } from 'node:util';
import { isValidIban } from '../../src/providers/sandbox/account-numbers.js';
import type {
  BankAccount,
  BankProvider,
  BankTransaction,
  Culture,
  FetchContext,
  LoginContext,
  LoginStep,
  ProviderConnection,
} from '../../src/providers/types.js';

/**
 * The provider conformance suite: the rules every bank provider must keep, sandbox or real. It logs
 * two users in through the provider's own login steps (a driver plays the user at the bank), then
 * checks what the provider says about itself, its accounts and its transactions.
 *
 * `checkProviderConformance` throws a `ConformanceError` naming the first rule broken; a real-bank
 * connector proves itself by passing it with a driver for the bank's test users.
 */

export type FormStep = Extract<LoginStep, { kind: 'form' }>;
export type RedirectStep = Extract<LoginStep, { kind: 'redirect' }>;
export type PollStep = Extract<LoginStep, { kind: 'poll' }>;

/** Plays the user: fills forms, logs in at the bank's page, approves in the app. */
export interface ConformanceDriver {
  /** Field values that log `user` in at this form. */
  fill(step: FormStep, user: string): Record<string, string> | Promise<Record<string, string>>;
  /** Does what the user does at the bank after the redirect; returns the query the bank sends back. */
  followRedirect(step: RedirectStep, user: string): Promise<Record<string, string>>;
  /** Approves the login in the bank's app. */
  approve(step: PollStep, user: string): Promise<void>;
}

export interface ConformanceOptions {
  driver: ConformanceDriver;
  /** Two different ordinary users with at least one account each. */
  users: readonly [string, string];
  /** The clock the provider sees (milliseconds). */
  now: number;
  publicUrl: string;
  returnUrl: string;
  /** What the driver typed as passwords and codes: none may end up in a connection. */
  secrets?: readonly string[];
}

export class ConformanceError extends Error {
  constructor(
    readonly providerId: string,
    readonly rule: string,
    detail: string,
  ) {
    super(`${providerId} breaks "${rule}": ${detail}`);
    this.name = 'ConformanceError';
  }
}

const CULTURES: readonly Culture[] = ['en', 'da', 'sv', 'nb', 'fi', 'de'];
const STATUSES = ['Up', 'Degraded', 'Down'];
const METHODS = ['Password', 'PasswordAndOtp', 'Decoupled', 'Redirect'];
const FIELD_TYPES = ['text', 'password', 'otp'];
const FAILURE_REASONS = ['InvalidCredentials', 'AccountLocked', 'BankUnavailable', 'RejectedByUser', 'Timeout', 'Cancelled'];
const ACCOUNT_TYPES = ['Consumption', 'Savings', 'Credit', 'Card', 'Loan', 'Pension', 'Other'];
const TRANSACTION_TYPES = ['Card', 'Transfer', 'DirectDebit', 'Salary', 'Fee', 'Interest', 'Cash', 'Other'];
const MAX_LOGIN_STEPS = 12;
const DAY_MS = 86_400_000;

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isIsoDate = (text: unknown) => typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text) && isoDay(Date.parse(`${text}T00:00:00Z`)) === text;
const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);

export async function checkProviderConformance(provider: BankProvider, options: ConformanceOptions): Promise<void> {
  const id = safeId(provider);
  const rule = (name: string, ok: boolean, detail: () => string) => {
    if (!ok) throw new ConformanceError(id, name, detail());
  };
  const refuses = async (name: string, call: () => Promise<unknown>) => {
    let threw = false;
    try {
      await call();
    } catch {
      threw = true;
    }
    rule(name, threw, () => 'the call succeeded');
  };

  // --- what the provider says about itself -------------------------------------------------------
  const d = provider.describe();
  rule('describe: id', typeof d.id === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(d.id), () => JSON.stringify(d.id));
  rule('describe: name', typeof d.name === 'string' && d.name.trim().length > 0, () => JSON.stringify(d.name));
  rule('describe: countryCode is ISO 3166-1 alpha-2', /^[A-Z]{2}$/.test(d.countryCode), () => d.countryCode);
  rule('describe: currency is ISO 4217', /^[A-Z]{3}$/.test(d.currency), () => d.currency);
  rule('describe: logo is Ferry’s own asset', d.logoUrl.startsWith('/') && !d.logoUrl.startsWith('//'), () => d.logoUrl);
  rule('describe: status', STATUSES.includes(d.status), () => d.status);
  rule('describe: login methods', d.loginMethods.length > 0 && d.loginMethods.every((m) => METHODS.includes(m)), () => JSON.stringify(d.loginMethods));
  rule('describe: requiresSupervisedUpdate', typeof d.requiresSupervisedUpdate === 'boolean', () => String(d.requiresSupervisedUpdate));
  rule('describe: stable', same(d, provider.describe()), () => 'two calls differ');
  if (provider.logoSvg !== undefined) {
    const svg = provider.logoSvg();
    rule('logo: self-contained SVG', /^<svg[\s>]/.test(svg) && !/<script|\bon\w+=|href=["']?(?!#)/i.test(svg), () => svg.slice(0, 80));
  }

  const ctx = (culture: Culture): LoginContext => ({ culture, publicUrl: options.publicUrl, returnUrl: options.returnUrl, now: () => options.now });
  const fetchCtx: FetchContext = { now: () => options.now };

  // --- the first step, in every language ---------------------------------------------------------
  const firstSteps: LoginStep[] = [];
  for (const culture of CULTURES) firstSteps.push(checkStep(await provider.startLogin(ctx(culture)), `start (${culture})`));
  const forms = firstSteps.filter((s): s is FormStep => s.kind === 'form');
  if (forms.length === CULTURES.length) {
    const texts = (s: FormStep) => [s.title, ...s.fields.map((f) => f.label)].join('|');
    rule('forms are localised', forms.some((s) => texts(s) !== texts(forms[0]!)), () => 'every culture shows the English texts');
  }

  function checkStep(step: LoginStep, where: string): LoginStep {
    const r = (name: string, ok: boolean, detail: () => string) => rule(`${where}: ${name}`, ok, detail);
    switch (step.kind) {
      case 'form':
        r('form has a title', typeof step.title === 'string' && step.title.trim() !== '', () => JSON.stringify(step.title));
        r('form has fields', Array.isArray(step.fields) && step.fields.length > 0, () => 'no fields');
        for (const field of step.fields) {
          r('field name', /^[A-Za-z][A-Za-z0-9_-]*$/.test(field.name), () => field.name);
          r('field type', FIELD_TYPES.includes(field.type), () => field.type);
          r('field label', typeof field.label === 'string' && field.label.trim() !== '', () => field.name);
        }
        r('form field names are unique', new Set(step.fields.map((f) => f.name)).size === step.fields.length, () => 'duplicate field');
        break;
      case 'redirect':
        r('redirect URL is absolute http(s)', /^https?:\/\//.test(step.url), () => step.url);
        break;
      case 'poll':
        r('poll interval', Number.isInteger(step.pollAfterMs) && step.pollAfterMs > 0, () => String(step.pollAfterMs));
        r('poll message', typeof step.message === 'string' && step.message.trim() !== '', () => 'empty');
        break;
      case 'failed':
        r('failure reason', FAILURE_REASONS.includes(step.reason), () => step.reason);
        r('failure message', typeof step.message === 'string' && step.message.trim() !== '', () => 'empty');
        break;
      case 'done':
        break;
      default:
        r('step kind', false, () => JSON.stringify((step as { kind: unknown }).kind));
    }
    if (step.kind === 'form' || step.kind === 'redirect' || step.kind === 'poll') {
      r('login state survives JSON', same(step.state, roundTrip(step.state)), () => 'the state changes through JSON');
    }
    return step;
  }

  // --- logging two users in ------------------------------------------------------------------------
  async function login(user: string): Promise<ProviderConnection> {
    const c = ctx('en');
    let step = checkStep(await provider.startLogin(c), 'start');
    let approved = false;
    for (let i = 0; i < MAX_LOGIN_STEPS; i++) {
      switch (step.kind) {
        case 'done': {
          const connection = step.connection;
          rule('connection names its provider', connection.providerId === d.id, () => connection.providerId);
          rule('connection reference', typeof connection.reference === 'string' && connection.reference.length > 0, () => 'empty');
          rule('connection is JSON', same(connection, roundTrip(connection)), () => 'the connection changes through JSON');
          rule('connection time', Number.isFinite(connection.createdAt), () => String(connection.createdAt));
          const json = JSON.stringify(connection);
          rule('connection holds no password', !(options.secrets ?? []).some((secret) => json.includes(secret)), () => 'a password is in the connection');
          return roundTrip(connection);
        }
        case 'failed':
          throw new ConformanceError(id, 'an ordinary user logs in', `failed: ${step.reason} (${step.message})`);
        case 'form':
          step = checkStep(await provider.continueLogin(roundTrip(step.state), { kind: 'form', fields: await options.driver.fill(step, user) }, c), `step ${i + 1}`);
          break;
        case 'redirect': {
          const query = await options.driver.followRedirect(step, user);
          step = checkStep(await provider.continueLogin(roundTrip(step.state), { kind: 'callback', query }, c), `step ${i + 1}`);
          break;
        }
        case 'poll':
          if (!approved) {
            await options.driver.approve(step, user);
            approved = true;
          }
          step = checkStep(await provider.continueLogin(roundTrip(step.state), { kind: 'poll' }, c), `step ${i + 1}`);
          break;
      }
    }
    throw new ConformanceError(id, 'a login ends', `still not done after ${MAX_LOGIN_STEPS} steps`);
  }

  const [userA, userB] = options.users;
  const a = await login(userA);
  const b = await login(userB);
  const aAgain = await login(userA);

  // --- accounts ------------------------------------------------------------------------------------
  const accountsA = await provider.listAccounts(a, fetchCtx);
  const accountsB = await provider.listAccounts(b, fetchCtx);
  rule('an ordinary user has accounts', accountsA.length > 0 && accountsB.length > 0, () => `${accountsA.length} and ${accountsB.length}`);
  for (const account of [...accountsA, ...accountsB]) checkAccount(account);
  rule('account ids are unique', new Set(accountsA.map((x) => x.id)).size === accountsA.length, () => 'duplicate account id');
  rule('same user, same accounts', same(accountsA, await provider.listAccounts(aAgain, fetchCtx)), () => 'a second login of the same user lists other accounts');
  const idsA = new Set(accountsA.map((x) => x.id));
  rule('different users, different accounts', accountsB.every((x) => !idsA.has(x.id)), () => 'two users share an account id');

  function checkAccount(account: BankAccount) {
    const r = (name: string, ok: boolean, detail: () => string) => rule(`account: ${name}`, ok, detail);
    r('id', typeof account.id === 'string' && account.id.length > 0 && account.id.length <= 200, () => JSON.stringify(account.id));
    r('name', typeof account.name === 'string' && account.name.trim() !== '', () => account.id);
    r('type', ACCOUNT_TYPES.includes(account.type), () => account.type);
    r('currency', /^[A-Z]{3}$/.test(account.currency), () => account.currency);
    for (const money of [account.booked, account.available]) {
      if (money === null) continue;
      r('money in integer minor units', Number.isSafeInteger(money.minor), () => String(money.minor));
      r('balance in the account currency', money.currency === account.currency, () => money.currency);
    }
    if (account.iban !== null) r('IBAN check digits', isValidIban(account.iban), () => account.iban!);
    if (account.iban !== null && account.bban !== null) r('IBAN holds the BBAN', account.iban.replace(/^[A-Z]{2}\d{2}/, '').includes(account.bban.replace(/\s/g, '').slice(-7)), () => `${account.iban} / ${account.bban}`);
    if (account.card !== null) r('card number is masked', (account.card.match(/\d/g) ?? []).length <= 10, () => account.card!);
  }

  // --- transactions --------------------------------------------------------------------------------
  const today = isoDay(options.now);
  const from = isoDay(options.now - 730 * DAY_MS);
  const seenIds = new Set<string>();
  for (const account of accountsA) {
    const transactions = await provider.fetchTransactions(a, account.id, { from, to: today }, fetchCtx);
    checkTransactions(account, transactions, from, today);
    for (const t of transactions) {
      rule('transaction ids are unique across accounts', !seenIds.has(t.id), () => t.id);
      seenIds.add(t.id);
    }
    rule('same fetch, same transactions', same(transactions, await provider.fetchTransactions(a, account.id, { from, to: today }, fetchCtx)), () => 'two fetches differ');
    const subFrom = isoDay(options.now - 60 * DAY_MS);
    const subTo = isoDay(options.now - 30 * DAY_MS);
    const sub = await provider.fetchTransactions(a, account.id, { from: subFrom, to: subTo }, fetchCtx);
    rule('a narrower range is a slice of the wider one', same(sub, transactions.filter((t) => t.date >= subFrom && t.date <= subTo)), () => `${subFrom}…${subTo} differs`);
  }

  function checkTransactions(account: BankAccount, transactions: BankTransaction[], rangeFrom: string, rangeTo: string) {
    const r = (name: string, ok: boolean, detail: () => string) => rule(`transactions: ${name}`, ok, detail);
    r('an array', Array.isArray(transactions), () => typeof transactions);
    const ids = new Set<string>();
    for (const t of transactions) {
      r('id', typeof t.id === 'string' && t.id.length > 0, () => JSON.stringify(t.id));
      r('transaction ids are unique', !ids.has(t.id), () => t.id);
      ids.add(t.id);
      r('date is YYYY-MM-DD', isIsoDate(t.date), () => String(t.date));
      r('dates within the range', t.date >= rangeFrom && t.date <= rangeTo, () => `${t.date} outside ${rangeFrom}…${rangeTo}`);
      if (t.valueDate !== null) r('value date is YYYY-MM-DD', isIsoDate(t.valueDate), () => String(t.valueDate));
      r('money in integer minor units', Number.isSafeInteger(t.amount.minor) && (t.balance === null || Number.isSafeInteger(t.balance.minor)), () => `${t.amount.minor} / ${t.balance?.minor}`);
      r('amounts in the account currency', t.amount.currency === account.currency && (t.balance === null || t.balance.currency === account.currency), () => t.amount.currency);
      r('state', t.state === 'Booked' || t.state === 'Reserved', () => String(t.state));
      r('type', TRANSACTION_TYPES.includes(t.type), () => t.type);
      r('text', typeof t.text === 'string' && typeof t.originalText === 'string' && t.text.trim() !== '', () => t.id);
      r('a Reserved transaction has no running balance', t.state === 'Booked' || t.balance === null, () => t.id);
      if (t.pendingId !== undefined) r('pendingId only on a booked transaction, and not its own id', t.state === 'Booked' && t.pendingId !== t.id, () => t.id);
    }
    for (let i = 1; i < transactions.length; i++) {
      r('newest first', transactions[i - 1]!.date >= transactions[i]!.date, () => `${transactions[i - 1]!.date} before ${transactions[i]!.date}`);
    }
    const booked = transactions.filter((t) => t.state === 'Booked' && t.balance !== null);
    for (let i = 0; i + 1 < booked.length; i++) {
      const newer = booked[i]!;
      const older = booked[i + 1]!;
      r('running balance', newer.balance!.minor === older.balance!.minor + newer.amount.minor, () => `${older.id} ${older.balance!.minor} + ${newer.id} ${newer.amount.minor} ≠ ${newer.balance!.minor}`);
    }
    const bookedBalance = account.booked?.minor ?? null;
    const availableBalance = account.available?.minor ?? null;
    if (bookedBalance !== null && booked.length > 0 && rangeTo === today) {
      const newest = booked[0]!.balance!.minor;
      r('booked balance equals the newest booked transaction’s running balance', bookedBalance === newest, () => `${bookedBalance} ≠ ${newest}`);
    }
    if (bookedBalance !== null && availableBalance !== null && rangeTo === today) {
      // Reserved amounts are spent already; an overdraft or a credit limit may only add to what is left.
      const reserved = transactions.filter((t) => t.state === 'Reserved').reduce((sum, t) => sum + t.amount.minor, 0);
      r('available is at least booked plus Reserved', availableBalance >= bookedBalance + reserved, () => `${availableBalance} < ${bookedBalance} + ${reserved}`);
    }
  }

  // --- one consent never sees another's data -------------------------------------------------------
  const [firstA] = accountsA;
  const [firstB] = accountsB;
  await refuses('refuses another user’s account', () => provider.fetchTransactions(a, firstB!.id, { from, to: today }, fetchCtx));
  await refuses('refuses an unknown account', () => provider.fetchTransactions(a, `${firstA!.id}x`, { from, to: today }, fetchCtx));
  await refuses('refuses another provider’s connection', () => provider.listAccounts({ ...a, providerId: `${d.id}-other` }, fetchCtx));
  await refuses('refuses another provider’s connection (transactions)', () => provider.fetchTransactions({ ...a, providerId: `${d.id}-other` }, firstA!.id, { from, to: today }, fetchCtx));
  await refuses('refuses a malformed connection', () => provider.listAccounts({ ...a, reference: '' }, fetchCtx));
  await refuses('refuses a malformed date range', () => provider.fetchTransactions(a, firstA!.id, { from: 'yesterday', to: today }, fetchCtx));
}

function safeId(provider: BankProvider): string {
  try {
    return String(provider.describe().id);
  } catch {
    return '(describe() throws)';
  }
}

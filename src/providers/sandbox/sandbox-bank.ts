import { setTimeout as sleep } from 'node:timers/promises';
import { randomToken } from '../../crypto.js';
import { ConnectionMismatchError, InvalidDateRangeError, InvalidLoginStateError, MalformedConnectionError, UnknownAccountError } from '../errors.js';
import { providerMessage, type ProviderMessageKey } from '../messages.js';
import type {
  BankAccount,
  BankProvider,
  BankTransaction,
  FetchContext,
  FormField,
  LoginContext,
  LoginFailureReason,
  LoginInput,
  LoginState,
  LoginStep,
  ProviderConnection,
  ProviderDescription,
} from '../types.js';
import { SANDBOX_OTP_CODE, type SandboxBank } from './banks.js';
import { DECOUPLED_LOGIN_TTL_MS, REDIRECT_LOGIN_TTL_MS, type SandboxBankLogins } from './bank-logins.js';
import { BANK_ERRORS, SandboxBankSide } from './bank-side.js';
import { parseIsoDate } from './calendar.js';
import { planAccounts, type AccountPlan } from './accounts.js';
import { sandboxBankLogo, sandboxLogoPath } from './logos.js';
import { digest } from './prng.js';
import { normaliseUsername, scenarioByName, scenarioFor, type Scenario, type ScenarioName } from './scenarios.js';
import { accountView, transactionsView } from './statements.js';

/** How long each step of the `slow` user takes unless the registry says otherwise. */
export const DEFAULT_SLOW_STEP_MS = 3_000;
/** How often the flow should ask whether the user approved in the app. */
export const DECOUPLED_POLL_MS = 2_000;
/** Wrong one-time codes a login may have. */
const MAX_OTP_ATTEMPTS = 3;
const MAX_USERNAME_LENGTH = 100;

/** The login state the sandbox banks store in the flow between two requests (JSON). */
type SandboxLoginState =
  | { v: 1; bank: string; step: 'credentials'; attempts: number }
  | { v: 1; bank: string; step: 'otp'; username: string; attempts: number }
  | { v: 1; bank: string; step: 'identify' }
  | { v: 1; bank: string; step: 'approve'; handle: string; username: string }
  | { v: 1; bank: string; step: 'redirect'; handle: string; nonce: string };

/** What a sandbox connection carries: no password, only who the user is at the bank. */
interface SandboxConnectionData {
  v: 1;
  /** The user's scenario, if any (decides the data and the slowness of fetches). */
  scenario: ScenarioName | null;
}

const REFERENCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Form errors that are the bank refusing the credentials (an empty field is not). */
const REFUSALS: ReadonlySet<ProviderMessageKey> = new Set(['errWrongPassword', 'errPasswordNumeric', 'errWrongOtp']);

const FAILURE_MESSAGES: Record<LoginFailureReason, ProviderMessageKey> = {
  InvalidCredentials: 'failInvalidCredentials',
  AccountLocked: 'failLocked',
  BankUnavailable: 'failUnavailable',
  RejectedByUser: 'failRejected',
  Timeout: 'failTimeout',
  Cancelled: 'failCancelled',
};

export interface SandboxBankDeps {
  logins: SandboxBankLogins;
  slowStepMs: number;
}

/** The bank's reference to a user: SHA-256 of (bank, username); the username itself is not kept. */
export function sandboxUserReference(bankId: string, username: string): string {
  return digest('ferry-sandbox-user', bankId, normaliseUsername(username)).toString('base64url');
}

/**
 * A sandbox bank: a real implementation of the provider interface over generated data. Which
 * login method it shows comes from its catalogue entry; scenario users behave the same everywhere.
 */
export class SandboxBankProvider implements BankProvider {
  /** The bank's own pages (redirect login, the app's approval), for its routes and the tests. */
  readonly bankSide: SandboxBankSide;
  private readonly logins: SandboxBankLogins;
  private readonly slowStepMs: number;

  constructor(
    readonly bank: SandboxBank,
    deps: SandboxBankDeps,
  ) {
    this.logins = deps.logins;
    this.slowStepMs = deps.slowStepMs;
    this.bankSide = new SandboxBankSide(bank, deps.logins, (scenario) => this.slowStep(scenario));
  }

  describe(): ProviderDescription {
    return {
      id: this.bank.id,
      name: this.bank.name,
      countryCode: this.bank.country,
      currency: this.bank.currency,
      logoUrl: sandboxLogoPath(this.bank),
      status: 'Up',
      loginMethods: [this.bank.loginMethod],
      requiresSupervisedUpdate: this.bank.requiresSupervisedUpdate,
    };
  }

  logoSvg(): string {
    return sandboxBankLogo(this.bank);
  }

  async startLogin(ctx: LoginContext): Promise<LoginStep> {
    switch (this.bank.loginMethod) {
      case 'Password':
      case 'PasswordAndOtp':
        return this.credentialsForm(ctx, { v: 1, bank: this.bank.id, step: 'credentials', attempts: 0 });
      case 'Decoupled':
        return this.identifyForm(ctx);
      case 'Redirect': {
        const nonce = randomToken(16);
        const handle = await this.logins.create({
          providerId: this.bank.id,
          method: 'Redirect',
          status: 'Pending',
          username: null,
          culture: ctx.culture,
          returnUrl: ctx.returnUrl,
          state: nonce,
          now: ctx.now(),
          ttlMs: REDIRECT_LOGIN_TTL_MS,
        });
        return this.redirectStep(ctx, { v: 1, bank: this.bank.id, step: 'redirect', handle, nonce });
      }
    }
  }

  async continueLogin(raw: LoginState, input: LoginInput, ctx: LoginContext): Promise<LoginStep> {
    const state = this.parseState(raw);
    switch (state.step) {
      case 'credentials':
        return input.kind === 'form' ? this.submitCredentials(state, input.fields, ctx) : this.credentialsForm(ctx, state);
      case 'otp':
        return input.kind === 'form' ? this.submitOtp(state, input.fields, ctx) : this.otpForm(ctx, state);
      case 'identify':
        return input.kind === 'form' ? this.submitIdentity(input.fields, ctx) : this.identifyForm(ctx);
      case 'approve':
        return this.pollApproval(state, ctx);
      case 'redirect':
        // Anything but the bank's answer (a reload, a back button): send the user to the bank again.
        return input.kind === 'callback' ? this.receiveCallback(state, input.query, ctx) : this.redirectStep(ctx, state);
    }
  }

  // --- password (and one-time code) ---------------------------------------------------------

  private async submitCredentials(state: Extract<SandboxLoginState, { step: 'credentials' }>, fields: Record<string, string>, ctx: LoginContext): Promise<LoginStep> {
    const username = (fields.username ?? '').trim();
    const password = fields.password ?? '';
    if (username.length === 0 || username.length > MAX_USERNAME_LENGTH) return this.credentialsForm(ctx, state, 'username', 'errUsernameRequired');
    if (password.length === 0) return this.credentialsForm(ctx, state, 'password', 'errPasswordRequired');
    if (this.bank.numericPassword && !/^\d+$/.test(password)) return this.credentialsForm(ctx, state, 'password', 'errPasswordNumeric');

    const scenario = scenarioFor(username);
    await this.slowStep(scenario);
    if (scenario?.login === 'wrongPasswordOnce' && state.attempts === 0) {
      // The first password is wrong, whatever it is; the retry goes through.
      return this.credentialsForm(ctx, { ...state, attempts: 1 }, 'password', 'errWrongPassword');
    }
    const refused = this.refusal(scenario, ctx);
    if (refused !== null) return refused;
    if (this.bank.loginMethod === 'PasswordAndOtp') return this.otpForm(ctx, { v: 1, bank: this.bank.id, step: 'otp', username, attempts: 0 });
    return this.done(username, scenario, ctx);
  }

  private async submitOtp(state: Extract<SandboxLoginState, { step: 'otp' }>, fields: Record<string, string>, ctx: LoginContext): Promise<LoginStep> {
    const scenario = scenarioFor(state.username);
    await this.slowStep(scenario);
    if ((fields.otp ?? '').replace(/\s+/g, '') !== SANDBOX_OTP_CODE) {
      const attempts = state.attempts + 1;
      if (attempts >= MAX_OTP_ATTEMPTS) return this.failed('InvalidCredentials', ctx, true);
      return this.otpForm(ctx, { ...state, attempts }, 'errWrongOtp');
    }
    return this.done(state.username, scenario, ctx);
  }

  /** The scenario users whose bank refuses them once their credentials were checked. */
  private refusal(scenario: Scenario | null, ctx: LoginContext): LoginStep | null {
    switch (scenario?.login) {
      case 'locked':
        return this.failed('AccountLocked', ctx, false);
      case 'unavailable':
        return this.failed('BankUnavailable', ctx, true);
      case 'rejected':
        return this.failed('RejectedByUser', ctx, true);
      default:
        return null;
    }
  }

  // --- decoupled (approve in the app) ---------------------------------------------------------

  private async submitIdentity(fields: Record<string, string>, ctx: LoginContext): Promise<LoginStep> {
    const username = (fields.username ?? '').trim();
    if (username.length === 0 || username.length > MAX_USERNAME_LENGTH) return this.identifyForm(ctx, 'errUsernameRequired');
    const scenario = scenarioFor(username);
    await this.slowStep(scenario);
    if (scenario?.login === 'locked' || scenario?.login === 'unavailable') return this.refusal(scenario, ctx)!;
    const handle = await this.logins.create({
      providerId: this.bank.id,
      method: 'Decoupled',
      // The `rejected` user's phone has rejected the request before the flow first polls.
      status: scenario?.login === 'rejected' ? 'Rejected' : 'Pending',
      username,
      culture: ctx.culture,
      returnUrl: null,
      state: null,
      now: ctx.now(),
      ttlMs: DECOUPLED_LOGIN_TTL_MS,
    });
    return this.pollStep(ctx, { v: 1, bank: this.bank.id, step: 'approve', handle, username });
  }

  private async pollApproval(state: Extract<SandboxLoginState, { step: 'approve' }>, ctx: LoginContext): Promise<LoginStep> {
    const scenario = scenarioFor(state.username);
    await this.slowStep(scenario);
    const row = await this.logins.find(this.bank.id, state.handle);
    if (row === null) return this.failed('Timeout', ctx, true);
    if (row.status === 'Approved') return this.done(state.username, scenario, ctx);
    if (row.status === 'Rejected') return this.failed('RejectedByUser', ctx, true);
    if (row.status !== 'Pending' || row.expires_at <= ctx.now()) return this.failed('Timeout', ctx, true);
    return this.pollStep(ctx, state);
  }

  // --- redirect (the bank's own login page) ---------------------------------------------------

  private async receiveCallback(state: Extract<SandboxLoginState, { step: 'redirect' }>, query: Record<string, string>, ctx: LoginContext): Promise<LoginStep> {
    // The `state` echo ties the answer to this login (RFC 6749 §10.12, CSRF).
    if (query.state !== state.nonce) return this.failed('Cancelled', ctx, true, 'failBankAnswer');
    const error = query.error;
    if (error !== undefined) {
      const reason: LoginFailureReason = BANK_ERRORS[error as keyof typeof BANK_ERRORS] ?? 'Cancelled';
      return this.failed(reason, ctx, reason !== 'AccountLocked');
    }
    const code = query.code;
    const username = code === undefined ? null : await this.logins.consumeCode(this.bank.id, state.handle, code, ctx.now());
    if (username === null) return this.failed('Cancelled', ctx, true, 'failBankAnswer');
    const scenario = scenarioFor(username);
    await this.slowStep(scenario);
    return this.done(username, scenario, ctx);
  }

  // --- steps ----------------------------------------------------------------------------------

  private t(ctx: LoginContext, key: ProviderMessageKey, values: Record<string, string> = {}): string {
    return providerMessage(ctx.culture, key, { bank: this.bank.name, ...values });
  }

  private usernameField(ctx: LoginContext): FormField {
    return { name: 'username', type: 'text', label: this.t(ctx, 'username'), hint: this.t(ctx, 'usernameHint'), autocomplete: 'username', inputMode: 'text' };
  }

  private credentialsForm(ctx: LoginContext, state: SandboxLoginState, field?: string, error?: ProviderMessageKey): LoginStep {
    const numeric = this.bank.numericPassword;
    return {
      kind: 'form',
      state,
      title: this.t(ctx, 'loginTitle'),
      fields: [
        this.usernameField(ctx),
        {
          name: 'password',
          type: 'password',
          label: this.t(ctx, 'password'),
          hint: this.t(ctx, numeric ? 'numericPasswordHint' : 'anyPasswordHint'),
          autocomplete: 'current-password',
          inputMode: numeric ? 'numeric' : 'text',
        },
      ],
      ...(error === undefined ? {} : { error: { field, message: this.t(ctx, error), ...(REFUSALS.has(error) ? { reason: 'InvalidCredentials' as const } : {}) } }),
    };
  }

  private otpForm(ctx: LoginContext, state: SandboxLoginState, error?: ProviderMessageKey): LoginStep {
    return {
      kind: 'form',
      state,
      title: this.t(ctx, 'otpTitle'),
      fields: [
        {
          name: 'otp',
          type: 'otp',
          label: this.t(ctx, 'otp'),
          hint: this.t(ctx, 'otpHint', { code: SANDBOX_OTP_CODE }),
          autocomplete: 'one-time-code',
          inputMode: 'numeric',
        },
      ],
      ...(error === undefined ? {} : { error: { field: 'otp', message: this.t(ctx, error), reason: 'InvalidCredentials' as const } }),
    };
  }

  private identifyForm(ctx: LoginContext, error?: ProviderMessageKey): LoginStep {
    return {
      kind: 'form',
      state: { v: 1, bank: this.bank.id, step: 'identify' },
      title: this.t(ctx, 'appTitle'),
      fields: [this.usernameField(ctx)],
      ...(error === undefined ? {} : { error: { field: 'username', message: this.t(ctx, error) } }),
    };
  }

  private pollStep(ctx: LoginContext, state: Extract<SandboxLoginState, { step: 'approve' }>): LoginStep {
    return {
      kind: 'poll',
      state,
      message: this.t(ctx, 'pollMessage'),
      pollAfterMs: DECOUPLED_POLL_MS,
      approveUrl: `${ctx.publicUrl}/sandbox/banks/${encodeURIComponent(this.bank.id)}/app/${state.handle}`,
    };
  }

  private redirectStep(ctx: LoginContext, state: Extract<SandboxLoginState, { step: 'redirect' }>): LoginStep {
    return { kind: 'redirect', state, url: `${ctx.publicUrl}/sandbox/banks/${encodeURIComponent(this.bank.id)}/login?request=${state.handle}` };
  }

  private failed(reason: LoginFailureReason, ctx: LoginContext, retryable: boolean, message: ProviderMessageKey = FAILURE_MESSAGES[reason]): LoginStep {
    return { kind: 'failed', reason, message: this.t(ctx, message), retryable };
  }

  private done(username: string, scenario: Scenario | null, ctx: LoginContext): LoginStep {
    const data: SandboxConnectionData = { v: 1, scenario: scenario?.name ?? null };
    return {
      kind: 'done',
      connection: { providerId: this.bank.id, reference: sandboxUserReference(this.bank.id, username), data: { ...data }, createdAt: ctx.now() },
    };
  }

  private async slowStep(scenario: Scenario | null): Promise<void> {
    if (scenario?.login === 'slow' && this.slowStepMs > 0) await sleep(this.slowStepMs);
  }

  private parseState(raw: LoginState): SandboxLoginState {
    const s = raw as Partial<Record<string, unknown>>;
    const ok =
      s.v === 1 &&
      s.bank === this.bank.id &&
      ((s.step === 'credentials' && Number.isInteger(s.attempts)) ||
        (s.step === 'otp' && typeof s.username === 'string' && Number.isInteger(s.attempts)) ||
        s.step === 'identify' ||
        (s.step === 'approve' && typeof s.handle === 'string' && typeof s.username === 'string') ||
        (s.step === 'redirect' && typeof s.handle === 'string' && typeof s.nonce === 'string'));
    if (!ok) throw new InvalidLoginStateError(`login state is not one ${this.bank.id} wrote`);
    return raw as unknown as SandboxLoginState;
  }

  // --- data -------------------------------------------------------------------------------------

  private plans(connection: ProviderConnection): { plans: AccountPlan[]; scenario: Scenario | null } {
    if (connection.providerId !== this.bank.id) {
      throw new ConnectionMismatchError(`connection belongs to ${String(connection.providerId)}, not ${this.bank.id}`);
    }
    const data = connection.data as Partial<SandboxConnectionData> | undefined;
    const scenario = data?.scenario === null ? null : scenarioByName(String(data?.scenario));
    if (
      typeof connection.reference !== 'string' ||
      !REFERENCE_PATTERN.test(connection.reference) ||
      data?.v !== 1 ||
      (data.scenario !== null && scenario === null) ||
      !Number.isFinite(connection.createdAt)
    ) {
      throw new MalformedConnectionError(`connection is not one ${this.bank.id} made`);
    }
    return { plans: planAccounts(this.bank, connection.reference, scenario?.data ?? 'standard', connection.createdAt), scenario };
  }

  async listAccounts(connection: ProviderConnection, ctx: FetchContext): Promise<BankAccount[]> {
    const { plans, scenario } = this.plans(connection);
    await this.slowStep(scenario);
    const now = ctx.now();
    return plans.map((plan) => accountView(plan, now));
  }

  async fetchTransactions(connection: ProviderConnection, accountId: string, range: { from: string; to: string }, ctx: FetchContext): Promise<BankTransaction[]> {
    const { plans, scenario } = this.plans(connection);
    const from = parseIsoDate(String(range.from));
    const to = parseIsoDate(String(range.to));
    if (from === null || to === null) throw new InvalidDateRangeError(`range must be two YYYY-MM-DD dates (got ${JSON.stringify(range)})`);
    const plan = plans.find((p) => p.id === accountId);
    if (plan === undefined) throw new UnknownAccountError(`account is not one of this connection's accounts`);
    await this.slowStep(scenario);
    return transactionsView(plan, from, to, ctx.now());
  }
}

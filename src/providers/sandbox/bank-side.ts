import type { ProviderMessageKey } from '../messages.js';
import type { SandboxBank } from './banks.js';
import { AUTHORIZATION_CODE_TTL_MS, newAuthorizationCode, type SandboxBankLogins, type SandboxLoginRow } from './bank-logins.js';
import { scenarioFor, type Scenario } from './scenarios.js';

/**
 * What a sandbox bank does on its own pages, apart from HTTP: the redirect bank's login page
 * (strong customer authentication at the bank, then back to Ferry with a code) and the decoupled
 * bank's "phone" (approve or reject). The pages and the tests call these same functions.
 */

/** Errors the redirect bank sends back in `error=` (RFC 6749 §4.1.2.1 style), and what they mean. */
export const BANK_ERRORS = {
  access_denied: 'Cancelled',
  login_rejected: 'RejectedByUser',
  account_locked: 'AccountLocked',
  temporarily_unavailable: 'BankUnavailable',
} as const;
export type BankErrorCode = keyof typeof BANK_ERRORS;

export type BankPageResult =
  /** Show the page (again), with an error for the form. */
  | { kind: 'page'; row: SandboxLoginRow; error?: ProviderMessageKey }
  /** The login ended at the bank: send the browser back to Ferry. */
  | { kind: 'redirect'; location: string }
  /** The app has decided; show the outcome. */
  | { kind: 'decided'; row: SandboxLoginRow; status: 'Approved' | 'Rejected' }
  /** Unknown, expired or already used. */
  | { kind: 'gone' };

export interface BankLoginForm {
  action: 'login' | 'cancel';
  username: string;
  password: string;
}

export interface AppDecision {
  action: 'approve' | 'reject';
  pin: string;
}

export class SandboxBankSide {
  constructor(
    readonly bank: SandboxBank,
    private readonly logins: SandboxBankLogins,
    private readonly slowStep: (scenario: Scenario | null) => Promise<void>,
  ) {}

  private async pending(handle: string, method: 'Decoupled' | 'Redirect', now: number): Promise<SandboxLoginRow | null> {
    const row = await this.logins.find(this.bank.id, handle);
    if (row === null || row.method !== method || row.expires_at <= now) return null;
    return row;
  }

  /** The redirect bank's login page. */
  async loginPage(handle: string, now: number): Promise<BankPageResult> {
    const row = await this.pending(handle, 'Redirect', now);
    return row === null || row.status !== 'Pending' ? { kind: 'gone' } : { kind: 'page', row };
  }

  /** The user logs in (or cancels) at the redirect bank. */
  async submitLogin(handle: string, form: BankLoginForm, now: number): Promise<BankPageResult> {
    const row = await this.pending(handle, 'Redirect', now);
    if (row === null || row.status !== 'Pending') return { kind: 'gone' };
    if (form.action === 'cancel') return this.refuse(row, 'access_denied', now);

    const username = form.username.trim();
    if (username.length === 0 || username.length > 100) return { kind: 'page', row, error: 'errUsernameRequired' };
    if (form.password.length === 0) return { kind: 'page', row, error: 'errPasswordRequired' };
    if (this.bank.numericPassword && !/^\d+$/.test(form.password)) return { kind: 'page', row, error: 'errPasswordNumeric' };

    const scenario = scenarioFor(username);
    await this.slowStep(scenario);
    switch (scenario?.login) {
      case 'wrongPasswordOnce':
        // The first password is wrong, whatever it is; the retry goes through.
        if (row.attempts === 0) return { kind: 'page', row: { ...row, attempts: await this.logins.countAttempt(row) }, error: 'errWrongPassword' };
        break;
      case 'locked':
        return this.refuse(row, 'account_locked', now);
      case 'unavailable':
        return this.refuse(row, 'temporarily_unavailable', now);
      case 'rejected':
        return this.refuse(row, 'login_rejected', now);
      default:
        break;
    }
    const { code, hash } = newAuthorizationCode();
    const decided = await this.logins.decide(row, { status: 'Approved', username, codeHash: hash, expiresAt: now + AUTHORIZATION_CODE_TTL_MS }, now);
    if (!decided) return { kind: 'gone' };
    return { kind: 'redirect', location: returnTo(row, { code }) };
  }

  private async refuse(row: SandboxLoginRow, error: BankErrorCode, now: number): Promise<BankPageResult> {
    const decided = await this.logins.decide(row, { status: 'Failed', error }, now);
    if (!decided) return { kind: 'gone' };
    return { kind: 'redirect', location: returnTo(row, { error }) };
  }

  /** The decoupled bank's "phone": the pending request, or its outcome. */
  async appPage(handle: string, now: number): Promise<BankPageResult> {
    const row = await this.pending(handle, 'Decoupled', now);
    if (row === null) return { kind: 'gone' };
    if (row.status === 'Approved' || row.status === 'Rejected') return { kind: 'decided', row, status: row.status };
    return row.status === 'Pending' ? { kind: 'page', row } : { kind: 'gone' };
  }

  /** The user approves (with a PIN) or rejects on the "phone". */
  async decide(handle: string, decision: AppDecision, now: number): Promise<BankPageResult> {
    const current = await this.appPage(handle, now);
    if (current.kind !== 'page') return current;
    const row = current.row;
    if (decision.action === 'reject') {
      await this.logins.decide(row, { status: 'Rejected' }, now);
      return this.appPage(handle, now);
    }
    if (!/^\d{4,8}$/.test(decision.pin)) return { kind: 'page', row, error: 'errPinFormat' };
    if (scenarioFor(row.username ?? '')?.login === 'wrongPasswordOnce' && row.attempts === 0) {
      return { kind: 'page', row: { ...row, attempts: await this.logins.countAttempt(row) }, error: 'errPin' };
    }
    await this.logins.decide(row, { status: 'Approved' }, now);
    return this.appPage(handle, now);
  }
}

/** The flow's return address with the bank's answer and the `state` it was given. */
function returnTo(row: SandboxLoginRow, params: Record<string, string>): string {
  const url = new URL(row.return_url ?? '');
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (row.state !== null) url.searchParams.set('state', row.state);
  return url.toString();
}

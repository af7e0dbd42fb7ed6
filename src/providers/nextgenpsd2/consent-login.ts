import { randomToken } from '../../crypto.js';
import { BankAnswerInvalidError, BankUnavailableError, InvalidLoginStateError, RateLimitedError } from '../errors.js';
import type { FormField, LoginContext, LoginFailureReason, LoginInput, LoginState, LoginStep } from '../types.js';
import type { Xs2aBank } from './bank-config.js';
import { stableAccountId } from './mapping.js';
import { xs2aMessage, type Xs2aMessageKey } from './messages.js';
import type { ProviderMessageKey } from '../messages.js';
import { psuHeaders } from './psu-headers.js';
import { bankCodes, type Xs2aClient, type Xs2aResponse } from './xs2a-client.js';
import type { AccountDetails, ConsentInformation, ConsentStatus, ScaAnswer, ScaApproach } from './xs2a-model.js';

/**
 * A NextGenPSD2 login, as Ferry's login state machine (src/providers/types.ts): create the consent
 * (`POST /v1/consents`), then run the strong customer authentication the bank chooses, led by the
 * links it answers with (Implementation Guidelines §5.x, "hyperlinks steer the TPP"):
 * - redirect: `scaRedirect` → the user's browser goes to the bank and comes back on
 *   `TPP-Redirect-URI`, or `TPP-Nok-Redirect-URI` on failure; Ferry then asks for the consent status;
 * - decoupled: `startAuthorisationWithPsuIdentification` → the user approves in the bank's app while
 *   Ferry polls the consent status;
 * - embedded: `startAuthorisationWithPsuAuthentication` → PSU ID and password, a choice of SCA
 *   method when the bank offers several, and a one-time code.
 * Passwords and codes go straight to the bank: none is kept in the login state or the connection.
 */

export const DECOUPLED_POLL_MS = 2_000;
/** How long the user has to approve in the app (banks end theirs at about five minutes too). */
export const DECOUPLED_TTL_MS = 5 * 60_000;
/** After the redirect back, how long the bank may take to mark the consent valid. */
const CONFIRM_TTL_MS = 60_000;
const MAX_ATTEMPTS = 3;
const MAX_ID_LENGTH = 100;
const DAY_MS = 86_400_000;

type Base = { v: 1; bank: string };
/** After the consent exists: its id, and the nonce its redirect URIs carry (RFC 6749 §10.12 style). */
type Session = { consentId: string; nonce: string; psuId: string | null };

export type Xs2aLoginState =
  | (Base & { step: 'identify' })
  | (Base & { step: 'credentials'; attempts: number; session: Session | null })
  | (Base & { step: 'redirect'; session: Session; url: string })
  | (Base & { step: 'approve'; session: Session; scaStatus: string | null; until: number; approveUrl: string | null })
  | (Base & { step: 'method'; session: Session; link: string; methods: { id: string; label: string }[] })
  | (Base & { step: 'otp'; session: Session; link: string; hint: string | null; numeric: boolean; attempts: number });

/** What a finished login leaves in the connection (`ProviderConnection.data`). */
export interface Xs2aConnectionData {
  v: 1;
  /** The consent's last day (the bank's date, YYYY-MM-DD), as the bank granted it. */
  validUntil: string;
  /** Reads a day without the user, as the bank granted them. */
  frequencyPerDay: number;
  recurring: boolean;
  /** Ferry's account id → the bank's `resourceId` under this consent. */
  accounts: [string, string][];
}

export interface Xs2aLog {
  warn(details: Record<string, unknown>, message: string): void;
}

/** The bank wants the password again (wrong password), within a login that continues. */
class WrongCredentials extends Error {
  constructor(readonly session: Session) {
    super('wrong credentials');
  }
}

export class ConsentLogin {
  constructor(
    private readonly bank: Xs2aBank,
    private readonly client: Xs2aClient,
    private readonly log: Xs2aLog | undefined,
  ) {}

  async start(ctx: LoginContext): Promise<LoginStep> {
    const approach = this.bank.approaches[0]!;
    if (approach === 'EMBEDDED') return this.credentialsForm(ctx, this.state({ step: 'credentials', attempts: 0, session: null }));
    if (approach === 'DECOUPLED' || this.bank.requirePsuId) return this.identifyForm(ctx);
    return this.guard(ctx, () => this.createConsent(ctx, approach, null, undefined));
  }

  async continue(raw: LoginState, input: LoginInput, ctx: LoginContext): Promise<LoginStep> {
    const state = this.parse(raw);
    switch (state.step) {
      case 'identify':
        return input.kind === 'form' ? this.submitIdentity(ctx, input.fields) : this.identifyForm(ctx);
      case 'credentials':
        return input.kind === 'form' ? this.submitCredentials(ctx, state, input.fields) : this.credentialsForm(ctx, state);
      case 'method':
        return input.kind === 'form' ? this.submitMethod(ctx, state, input.fields) : this.methodForm(ctx, state);
      case 'otp':
        return input.kind === 'form' ? this.submitOtp(ctx, state, input.fields) : this.otpForm(ctx, state);
      case 'redirect':
        // Anything but the bank's answer (a reload, the back button): to the bank again.
        return input.kind === 'callback' ? this.guard(ctx, () => this.receiveCallback(ctx, state, input.query)) : { kind: 'redirect', state, url: state.url };
      case 'approve':
        return this.guard(ctx, () => this.pollApproval(ctx, state));
    }
  }

  // --- the consent -------------------------------------------------------------------------------

  private async createConsent(ctx: LoginContext, approach: ScaApproach, psuId: string | null, password: string | undefined): Promise<LoginStep> {
    const nonce = randomToken(16);
    const answer = await this.client.send({
      method: 'POST',
      target: { path: '/v1/consents' },
      headers: {
        ...this.psu(ctx),
        'psu-id': psuId ?? undefined,
        ...PREFERENCES[approach],
        // Always given (the guidelines recommend it), so a bank that picks redirect can use them.
        'tpp-redirect-uri': returnUri(ctx, nonce, 'ok'),
        'tpp-nok-redirect-uri': returnUri(ctx, nonce, 'nok'),
      },
      body: this.consentBody(ctx),
    });
    if (answer.status !== 201) return this.refused(ctx, answer, 'createConsent');
    const sca = answer.body as ScaAnswer;
    return this.next(ctx, { consentId: sca.consentId!, nonce, psuId }, sca, answer, password);
  }

  /** The Berlin Group consent body: accounts, balances and transactions, for one access or regular ones. */
  private consentBody(ctx: LoginContext) {
    const oneTime = ctx.oneTime === true;
    return {
      access: this.bank.consent === 'allPsd2' ? { allPsd2: 'allAccounts' } : { balances: [], transactions: [] },
      recurringIndicator: !oneTime,
      // A one-time consent lives into tomorrow, so the first sync after a late-evening login still reads.
      validUntil: isoDay(ctx.now() + (oneTime ? 1 : this.bank.consentDays) * DAY_MS),
      frequencyPerDay: oneTime ? 1 : this.bank.frequencyPerDay,
      combinedServiceIndicator: false,
    };
  }

  /** Follows the bank's links to the next thing the user or Ferry must do. */
  private async next(ctx: LoginContext, session: Session, sca: ScaAnswer, answer: Xs2aResponse, password: string | undefined, depth = 0): Promise<LoginStep> {
    const links = sca._links ?? {};
    if (depth > 3) return this.unreadable(ctx, 'the bank keeps asking to start the authorisation');
    if (sca.scaStatus === 'failed') return this.failed(ctx, 'RejectedByUser', 'failScaFailed', sca.psuMessage);
    if (sca.scaStatus === 'finalised' || sca.scaStatus === 'exempted') return this.confirm(ctx, session);
    if (links.scaRedirect !== undefined) {
      const url = links.scaRedirect.href;
      if (!/^https?:\/\//.test(url)) return this.unreadable(ctx, 'scaRedirect is not an absolute URL');
      return { kind: 'redirect', state: this.state({ step: 'redirect', session, url }), url };
    }
    if (links.scaOAuth !== undefined) return this.unsupported(ctx, 'the OAuth2 SCA approach (scaOAuth)');
    if (links.selectAuthenticationMethod !== undefined && (sca.scaMethods?.length ?? 0) > 0) {
      const methods = sca.scaMethods!.map((m) => ({ id: m.authenticationMethodId, label: m.name ?? m.explanation ?? m.authenticationType }));
      return this.methodForm(ctx, this.state({ step: 'method', session, link: links.selectAuthenticationMethod.href, methods }));
    }
    if (links.authoriseTransaction !== undefined) {
      const method = sca.chosenScaMethod?.name ?? sca.chosenScaMethod?.authenticationType;
      const hint = sca.challengeData?.additionalInformation ?? (method !== undefined ? xs2aMessage(ctx.culture, 'otpMethodHint', { method }) : null);
      return this.otpForm(ctx, this.state({ step: 'otp', session, link: links.authoriseTransaction.href, hint, numeric: sca.challengeData?.otpFormat !== 'characters', attempts: 0 }));
    }
    const withPassword = links.startAuthorisationWithPsuAuthentication ?? links.updatePsuAuthentication;
    if (withPassword !== undefined) {
      // The bank wants the password (embedded): use the one just typed, else ask for it.
      if (password === undefined) return this.credentialsForm(ctx, this.state({ step: 'credentials', attempts: 0, session }));
      const method = links.startAuthorisationWithPsuAuthentication !== undefined ? 'POST' : 'PUT';
      const started = await this.client.send({ method, target: { href: withPassword.href }, headers: { ...this.psu(ctx), 'psu-id': session.psuId ?? undefined }, body: { psuData: { password } } });
      if (started.status === 401 && bankCodes(started.body).includes('PSU_CREDENTIALS_INVALID')) throw new WrongCredentials(session);
      if (started.status !== 201 && started.status !== 200) return this.refused(ctx, started, 'startConsentAuthorisation');
      return this.next(ctx, session, started.body as ScaAnswer, started, undefined, depth + 1);
    }
    if (links.startAuthorisationWithEncryptedPsuAuthentication !== undefined) return this.unsupported(ctx, 'encrypted PSU authentication');
    const start = links.startAuthorisationWithPsuIdentification ?? links.startAuthorisation ?? links.startAuthorisationWithAuthenticationMethodSelection;
    if (start !== undefined) {
      const started = await this.client.send({ method: 'POST', target: { href: start.href }, headers: { ...this.psu(ctx), 'psu-id': session.psuId ?? undefined }, body: {} });
      if (started.status !== 201) return this.refused(ctx, started, 'startConsentAuthorisation');
      return this.next(ctx, session, started.body as ScaAnswer, started, password, depth + 1);
    }
    if (links.scaStatus !== undefined || answer.headers['aspsp-sca-approach'] === 'DECOUPLED') {
      // Decoupled: the user approves in the bank's app. The simulated bank links its "phone".
      const approveUrl = this.bank.sandbox ? (links.sandboxApproval?.href ?? null) : null;
      const state = this.state({ step: 'approve', session, scaStatus: links.scaStatus?.href ?? null, until: ctx.now() + DECOUPLED_TTL_MS, approveUrl });
      return this.pollStep(ctx, state, sca.psuMessage);
    }
    return this.unreadable(ctx, 'the answer has no link Ferry can follow');
  }

  /** The consent is authorised: what the bank granted, and the accounts behind it, for the connection. */
  private async confirm(ctx: LoginContext, session: Session): Promise<LoginStep> {
    const consentPath = `/v1/consents/${encodeURIComponent(session.consentId)}`;
    const info = await this.client.send({ method: 'GET', target: { path: consentPath }, headers: this.psu(ctx) });
    if (info.status !== 200) return this.refused(ctx, info, 'getConsentInformation');
    const consent = info.body as ConsentInformation;
    if (consent.consentStatus !== 'valid') return this.statusOutcome(ctx, session, consent.consentStatus, undefined, null, false);
    const list = await this.client.send({ method: 'GET', target: { path: '/v1/accounts' }, headers: { ...this.psu(ctx), 'consent-id': session.consentId } });
    if (list.status !== 200) return this.refused(ctx, list, 'getAccountList');
    const accounts = ((list.body as { accounts: AccountDetails[] }).accounts ?? []).filter((a) => a.status !== 'deleted' && a.resourceId !== undefined);
    const data: Xs2aConnectionData = {
      v: 1,
      validUntil: consent.validUntil,
      frequencyPerDay: consent.recurringIndicator ? Math.max(1, consent.frequencyPerDay) : 1,
      recurring: consent.recurringIndicator,
      accounts: accounts.map((a) => [stableAccountId(this.bank.id, a), a.resourceId!]),
    };
    return { kind: 'done', connection: { providerId: this.bank.id, reference: session.consentId, data: { ...data }, createdAt: ctx.now() } };
  }

  // --- redirect and decoupled: the consent's status ----------------------------------------------

  private async receiveCallback(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'redirect' }>, query: Record<string, string>): Promise<LoginStep> {
    if (query.state !== state.session.nonce) return this.failed(ctx, 'Cancelled', 'failBankAnswer');
    const nok = query.result === 'nok';
    const status = await this.consentStatus(ctx, state.session);
    if (status.kind === 'step') return status.step;
    return this.statusOutcome(ctx, state.session, status.consentStatus, status.psuMessage, null, nok);
  }

  private async pollApproval(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'approve' }>): Promise<LoginStep> {
    const status = await this.consentStatus(ctx, state.session);
    if (status.kind === 'step') return status.step;
    if (status.consentStatus === 'received' || status.consentStatus === 'partiallyAuthorised') {
      // Some banks leave the consent `received` when SCA fails: the authorisation says so.
      if (state.scaStatus !== null) {
        const sca = await this.client.send({ method: 'GET', target: { href: state.scaStatus }, headers: this.psu(ctx) });
        if (sca.status !== 200) return this.refused(ctx, sca, 'getConsentScaStatus');
        const body = sca.body as ScaAnswer;
        if (body.scaStatus === 'failed') return this.failed(ctx, 'RejectedByUser', 'failRejected', body.psuMessage);
      }
      if (ctx.now() >= state.until) return this.failed(ctx, 'Timeout', 'failTimeout');
      return this.pollStep(ctx, state, status.psuMessage);
    }
    return this.statusOutcome(ctx, state.session, status.consentStatus, status.psuMessage, state, false);
  }

  private async consentStatus(ctx: LoginContext, session: Session): Promise<{ kind: 'status'; consentStatus: ConsentStatus; psuMessage: string | undefined } | { kind: 'step'; step: LoginStep }> {
    const answer = await this.client.send({ method: 'GET', target: { path: `/v1/consents/${encodeURIComponent(session.consentId)}/status` }, headers: this.psu(ctx) });
    if (answer.status !== 200) return { kind: 'step', step: this.refused(ctx, answer, 'getConsentStatus') };
    const body = answer.body as { consentStatus: ConsentStatus; psuMessage?: string };
    return { kind: 'status', consentStatus: body.consentStatus, psuMessage: body.psuMessage };
  }

  private statusOutcome(ctx: LoginContext, session: Session, status: ConsentStatus, psuMessage: string | undefined, polling: Extract<Xs2aLoginState, { step: 'approve' }> | null, nok: boolean): Promise<LoginStep> | LoginStep {
    switch (status) {
      case 'valid':
        return this.confirm(ctx, session);
      case 'rejected':
        return nok ? this.failed(ctx, 'Cancelled', 'failNotGranted', psuMessage) : this.failed(ctx, 'RejectedByUser', 'failNotGranted', psuMessage);
      case 'received':
      case 'partiallyAuthorised': {
        if (nok) return this.failed(ctx, 'Cancelled', 'failCancelled', psuMessage);
        // Back from the bank, the consent not valid yet: wait a little for the bank to catch up.
        const state = polling ?? this.state({ step: 'approve', session, scaStatus: null, until: ctx.now() + CONFIRM_TTL_MS, approveUrl: null });
        return this.pollStep(ctx, state, psuMessage);
      }
      default:
        return this.failed(ctx, 'Timeout', 'failTimeout', psuMessage);
    }
  }

  // --- embedded: PSU ID, password, SCA method, one-time code ---------------------------------------

  private async submitIdentity(ctx: LoginContext, fields: Record<string, string>): Promise<LoginStep> {
    const psuId = (fields.psuId ?? '').trim();
    if (psuId === '' || psuId.length > MAX_ID_LENGTH) return this.identifyForm(ctx, 'errUsernameRequired');
    const approach = this.bank.approaches[0] === 'DECOUPLED' ? 'DECOUPLED' : 'REDIRECT';
    return this.guard(ctx, () => this.createConsent(ctx, approach, psuId, undefined));
  }

  private async submitCredentials(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'credentials' }>, fields: Record<string, string>): Promise<LoginStep> {
    const psuId = (fields.psuId ?? state.session?.psuId ?? '').trim();
    const password = fields.password ?? '';
    if (psuId === '' || psuId.length > MAX_ID_LENGTH) return this.credentialsForm(ctx, state, 'psuId', 'errUsernameRequired');
    if (password === '') return this.credentialsForm(ctx, state, 'password', 'errPasswordRequired');
    try {
      return await this.guard(ctx, async () => {
        // A retry for the same user goes on with the consent already made (the bank counts the attempts).
        const session = state.session !== null && state.session.psuId === psuId ? state.session : null;
        if (session === null) return this.createConsent(ctx, 'EMBEDDED', psuId, password);
        const target = { path: `/v1/consents/${encodeURIComponent(session.consentId)}/authorisations` };
        const started = await this.client.send({ method: 'POST', target, headers: { ...this.psu(ctx), 'psu-id': psuId }, body: { psuData: { password } } });
        if (started.status === 401 && bankCodes(started.body).includes('PSU_CREDENTIALS_INVALID')) throw new WrongCredentials(session);
        if (started.status !== 201) return this.refused(ctx, started, 'startConsentAuthorisation');
        return this.next(ctx, session, started.body as ScaAnswer, started, undefined);
      });
    } catch (error) {
      if (!(error instanceof WrongCredentials)) throw error;
      const attempts = state.attempts + 1;
      if (attempts >= MAX_ATTEMPTS) return this.failed(ctx, 'InvalidCredentials', 'failInvalidCredentials');
      return this.credentialsForm(ctx, this.state({ step: 'credentials', attempts, session: error.session }), 'password', 'errWrongPassword', true);
    }
  }

  private async submitMethod(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'method' }>, fields: Record<string, string>): Promise<LoginStep> {
    const choice = (fields.scaMethod ?? '').trim();
    const method = /^\d{1,2}$/.test(choice) ? state.methods[Number(choice) - 1] : state.methods.find((m) => m.id === choice);
    if (method === undefined) return this.methodForm(ctx, state, 'errScaMethod');
    return this.guard(ctx, async () => {
      const answer = await this.client.send({ method: 'PUT', target: { href: state.link }, headers: { ...this.psu(ctx), 'psu-id': state.session.psuId ?? undefined }, body: { authenticationMethodId: method.id } });
      if (answer.status !== 200) return this.refused(ctx, answer, 'updateConsentsPsuData');
      return this.next(ctx, state.session, answer.body as ScaAnswer, answer, undefined);
    });
  }

  private async submitOtp(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'otp' }>, fields: Record<string, string>): Promise<LoginStep> {
    const code = (fields.otp ?? '').replace(/\s+/g, '');
    if (code === '' || code.length > 100) return this.otpForm(ctx, state, 'errWrongOtp');
    return this.guard(ctx, async () => {
      const answer = await this.client.send({ method: 'PUT', target: { href: state.link }, headers: { ...this.psu(ctx), 'psu-id': state.session.psuId ?? undefined }, body: { scaAuthenticationData: code } });
      const codes = bankCodes(answer.body);
      if ((answer.status === 401 && codes.includes('PSU_CREDENTIALS_INVALID')) || (answer.status === 400 && codes.includes('SCA_INVALID'))) {
        const attempts = state.attempts + 1;
        if (attempts >= MAX_ATTEMPTS) return this.failed(ctx, 'InvalidCredentials', 'failInvalidCredentials');
        return this.otpForm(ctx, { ...state, attempts }, 'errWrongOtp');
      }
      if (answer.status !== 200) return this.refused(ctx, answer, 'updateConsentsPsuData');
      const sca = answer.body as ScaAnswer;
      if (sca.scaStatus === 'failed') return this.failed(ctx, 'InvalidCredentials', 'failScaFailed', sca.psuMessage);
      return this.next(ctx, state.session, sca, answer, undefined);
    });
  }

  // --- forms and steps ---------------------------------------------------------------------------

  private t(ctx: LoginContext, key: Xs2aMessageKey | ProviderMessageKey, values: Record<string, string> = {}): string {
    return xs2aMessage(ctx.culture, key, { bank: this.bank.name, ...values });
  }

  private psuIdField(ctx: LoginContext): FormField {
    return { name: 'psuId', type: 'text', label: this.t(ctx, 'psuId'), hint: this.t(ctx, this.bank.sandbox ? 'usernameHint' : 'psuIdHint'), autocomplete: 'username', inputMode: 'text' };
  }

  private identifyForm(ctx: LoginContext, error?: ProviderMessageKey): LoginStep {
    return {
      kind: 'form',
      state: this.state({ step: 'identify' }),
      title: this.t(ctx, this.bank.approaches[0] === 'DECOUPLED' ? 'appTitle' : 'loginTitle'),
      fields: [this.psuIdField(ctx)],
      ...(error !== undefined ? { error: { field: 'psuId', message: this.t(ctx, error) } } : {}),
    };
  }

  private credentialsForm(ctx: LoginContext, state: Xs2aLoginState, field?: string, error?: ProviderMessageKey, refused = false): LoginStep {
    const password: FormField = { name: 'password', type: 'password', label: this.t(ctx, 'password'), autocomplete: 'current-password', inputMode: 'text', ...(this.bank.sandbox ? { hint: this.t(ctx, 'anyPasswordHint') } : {}) };
    return {
      kind: 'form',
      state,
      title: this.t(ctx, 'loginTitle'),
      fields: [this.psuIdField(ctx), password],
      ...(error !== undefined ? { error: { field, message: this.t(ctx, error), ...(refused ? { reason: 'InvalidCredentials' as const } : {}) } } : {}),
    };
  }

  private methodForm(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'method' }>, error?: Xs2aMessageKey): LoginStep {
    const list = state.methods.map((m, i) => `${i + 1}: ${m.label}`).join('; ');
    return {
      kind: 'form',
      state,
      title: this.t(ctx, 'scaMethodTitle'),
      fields: [
        {
          name: 'scaMethod',
          type: 'text',
          label: this.t(ctx, 'scaMethod'),
          hint: this.t(ctx, 'scaMethodHint', { list }),
          inputMode: 'numeric',
          autocomplete: 'off',
          options: state.methods.map((m) => ({ value: m.id, label: m.label })),
        },
      ],
      ...(error !== undefined ? { error: { field: 'scaMethod', message: this.t(ctx, error) } } : {}),
    };
  }

  private otpForm(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'otp' }>, error?: ProviderMessageKey): LoginStep {
    return {
      kind: 'form',
      state,
      title: this.t(ctx, 'otpTitle'),
      fields: [{ name: 'otp', type: 'otp', label: this.t(ctx, 'otp'), ...(state.hint !== null ? { hint: state.hint } : {}), autocomplete: 'one-time-code', inputMode: state.numeric ? 'numeric' : 'text' }],
      ...(error !== undefined ? { error: { field: 'otp', message: this.t(ctx, error), reason: 'InvalidCredentials' as const } } : {}),
    };
  }

  private pollStep(ctx: LoginContext, state: Extract<Xs2aLoginState, { step: 'approve' }>, psuMessage: string | undefined): LoginStep {
    return {
      kind: 'poll',
      state,
      message: psuMessage?.trim() || this.t(ctx, 'pollMessage'),
      pollAfterMs: DECOUPLED_POLL_MS,
      ...(state.approveUrl !== null ? { approveUrl: state.approveUrl } : {}),
    };
  }

  private failed(ctx: LoginContext, reason: LoginFailureReason, key: Xs2aMessageKey | ProviderMessageKey, bankMessage?: string): LoginStep {
    // The bank's own words, when it gave any (`psuMessage`: "text to be displayed to the PSU").
    const message = bankMessage?.trim() || this.t(ctx, key);
    return { kind: 'failed', reason, message, retryable: reason !== 'AccountLocked' };
  }

  /** A refusal (4xx) of a login call, as the user's failure. */
  private refused(ctx: LoginContext, answer: Xs2aResponse, operation: string): LoginStep {
    const codes = bankCodes(answer.body);
    if (answer.status === 429) return this.failed(ctx, 'BankUnavailable', 'failBusy');
    if (codes.includes('PSU_CREDENTIALS_INVALID')) return this.failed(ctx, 'InvalidCredentials', 'failInvalidCredentials');
    if (codes.includes('SERVICE_BLOCKED')) return this.failed(ctx, 'AccountLocked', 'failLocked');
    if (codes.some((c) => ['CONSENT_EXPIRED', 'CONSENT_UNKNOWN', 'CONSENT_INVALID', 'RESOURCE_EXPIRED', 'STATUS_INVALID'].includes(c))) return this.failed(ctx, 'Timeout', 'failTimeout');
    this.log?.warn({ bank: this.bank.id, operation, status: answer.status, codes }, 'NextGenPSD2 bank refused a login call');
    return this.failed(ctx, 'BankUnavailable', 'failUnavailable');
  }

  private unsupported(ctx: LoginContext, what: string): LoginStep {
    this.log?.warn({ bank: this.bank.id, unsupported: what }, 'NextGenPSD2 bank asks for something Ferry does not support');
    return this.failed(ctx, 'BankUnavailable', 'failUnavailable');
  }

  private unreadable(ctx: LoginContext, problem: string): LoginStep {
    this.log?.warn({ bank: this.bank.id, problem }, 'NextGenPSD2 bank answered a login call in a way Ferry cannot follow');
    return this.failed(ctx, 'BankUnavailable', 'failAnswer');
  }

  /** Bank failures during a login are failed steps the user can retry, never exceptions. */
  private async guard(ctx: LoginContext, call: () => Promise<LoginStep>): Promise<LoginStep> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof RateLimitedError) return this.failed(ctx, 'BankUnavailable', 'failBusy');
      if (error instanceof BankUnavailableError) {
        this.log?.warn({ bank: this.bank.id, ...error.detail }, `NextGenPSD2 login: ${error.message}`);
        return this.failed(ctx, 'BankUnavailable', 'failUnavailable');
      }
      if (error instanceof BankAnswerInvalidError) {
        this.log?.warn({ bank: this.bank.id, problems: error.problems }, `NextGenPSD2 login: ${error.message}`);
        return this.failed(ctx, 'BankUnavailable', 'failAnswer');
      }
      throw error;
    }
  }

  private psu(ctx: LoginContext): Record<string, string | undefined> {
    return psuHeaders(ctx.psu, this.bank.tppIpAddress);
  }

  private state<T extends Omit<Xs2aLoginState, 'v' | 'bank'>>(fields: T): T & Base {
    return { v: 1, bank: this.bank.id, ...fields };
  }

  private parse(raw: LoginState): Xs2aLoginState {
    const s = raw as Partial<Record<string, unknown>>;
    const session = (value: unknown) => {
      const x = value as Partial<Session> | null | undefined;
      return typeof x === 'object' && x !== null && typeof x.consentId === 'string' && typeof x.nonce === 'string' && (x.psuId === null || typeof x.psuId === 'string');
    };
    const ok =
      s.v === 1 &&
      s.bank === this.bank.id &&
      (s.step === 'identify' ||
        (s.step === 'credentials' && Number.isInteger(s.attempts) && (s.session === null || session(s.session))) ||
        (s.step === 'redirect' && session(s.session) && typeof s.url === 'string') ||
        (s.step === 'approve' && session(s.session) && Number.isFinite(s.until) && (s.scaStatus === null || typeof s.scaStatus === 'string')) ||
        (s.step === 'method' && session(s.session) && typeof s.link === 'string' && Array.isArray(s.methods)) ||
        (s.step === 'otp' && session(s.session) && typeof s.link === 'string' && Number.isInteger(s.attempts)));
    if (!ok) throw new InvalidLoginStateError(`login state is not one ${this.bank.id} wrote`);
    return raw as unknown as Xs2aLoginState;
  }
}

/** What Ferry asks the bank for (`TPP-Redirect-Preferred`, `TPP-Decoupled-Preferred`). */
const PREFERENCES: Record<ScaApproach, Record<string, string>> = {
  REDIRECT: { 'tpp-redirect-preferred': 'true' },
  DECOUPLED: { 'tpp-decoupled-preferred': 'true', 'tpp-redirect-preferred': 'false' },
  EMBEDDED: { 'tpp-redirect-preferred': 'false', 'tpp-decoupled-preferred': 'false' },
};

/** The flow's callback with the login's nonce, and `result=nok` on the address for a failure. */
function returnUri(ctx: LoginContext, nonce: string, result: 'ok' | 'nok'): string {
  const url = new URL(ctx.returnUrl);
  url.searchParams.set('state', nonce);
  if (result === 'nok') url.searchParams.set('result', 'nok');
  return url.toString();
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

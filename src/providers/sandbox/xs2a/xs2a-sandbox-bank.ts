import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { randomToken, sha256 } from '../../../crypto.js';
import type { Database, Xs2aSandboxAuthorisationsTable, Xs2aSandboxConsentsTable } from '../../../db/schema.js';
import type { Culture } from '../../types.js';
import { providerMessage } from '../../messages.js';
import { PSD2_UNATTENDED_READS_PER_DAY, type AccountReport, type Links, type ScaApproach, type Transaction } from '../../nextgenpsd2/xs2a-model.js';
import { SANDBOX_OTP_CODE } from '../banks.js';
import { scenarioFor } from '../scenarios.js';
import { accountBalances, accountDetails, accountEntries, currentView, sandboxCustomerAccounts, transactionEntry, type SandboxXs2aAccount } from './xs2a-sandbox-data.js';

/**
 * What the simulated NextGenPSD2 bank does, apart from HTTP: consents and their authorisations in
 * each SCA approach, its own pages' logic (the redirect login, the decoupled "phone"), the AIS reads
 * with the checks a bank makes (consent valid and not expired, the account under the consent, at
 * most `frequencyPerDay` reads a day without the user: 429 `ACCESS_EXCEEDED`), and paging. State
 * lives in the database, so any Ferry process serves any step. Scenario users behave as at every
 * sandbox bank (README: wrongpassword, locked, unavailable, slow, rejected, noaccounts, …).
 */

export type ConsentRow = Selectable<Xs2aSandboxConsentsTable>;
export type AuthorisationRow = Selectable<Xs2aSandboxAuthorisationsTable>;

/** An answer for the routes to send: status, JSON body (none for 5xx), extra headers. */
export interface BankAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface SandboxBankSettings {
  /** Path prefix the API's links start with (`/sandbox/xs2a` inside Ferry, `` standalone). */
  apiPrefix: string;
  /** Where browsers reach the bank's pages (absolute, with the prefix). */
  pagesUrl: string;
  /** Entries per page of a transaction report. */
  pageSize: number;
  /** SCA methods an embedded user has: two to choose from, or one chosen implicitly. */
  embeddedMethods: 1 | 2;
  /** Redirect consents wait for an explicit start of the authorisation (`startAuthorisation`). */
  explicitStart: boolean;
}

export const REDIRECT_TTL_MS = 10 * 60_000;
export const DECOUPLED_TTL_MS = 5 * 60_000;
const EMBEDDED_TTL_MS = 10 * 60_000;
/** Consents are forgotten this long after they were made (longer than any may live). */
const CONSENT_RETENTION_MS = 400 * 86_400_000;
const MAX_VALIDITY_DAYS = 180;
const MAX_WRONG = 3;
const HISTORY_DAYS = 730;

const SCA_METHODS = [
  { authenticationType: 'SMS_OTP', authenticationMethodId: 'sms', name: 'SMS to +49 170 •••• 28' },
  { authenticationType: 'PUSH_OTP', authenticationMethodId: 'push', name: 'SecureGo app' },
];

export const tppError = (status: number, code: string, text?: string): BankAnswer => ({
  status,
  body: { tppMessages: [{ category: 'ERROR', code, ...(text !== undefined ? { text: text.slice(0, 500) } : {}) }] },
});

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const addDays = (day: string, days: number) => isoDay(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000);

export interface ConsentRequest {
  body: { access: Record<string, unknown>; recurringIndicator: boolean; validUntil: string; frequencyPerDay: number };
  psuId: string | undefined;
  redirectPreferred: boolean | undefined;
  decoupledPreferred: boolean | undefined;
  redirectUri: string | undefined;
  nokRedirectUri: string | undefined;
  culture: Culture;
}

export class Xs2aSandboxBank {
  constructor(
    private readonly db: Kysely<Database>,
    readonly settings: SandboxBankSettings,
  ) {}

  private link(path: string): { href: string } {
    return { href: `${this.settings.apiPrefix}${path}` };
  }

  private consentLinks(id: string): Links {
    return { self: this.link(`/v1/consents/${id}`), status: this.link(`/v1/consents/${id}/status`) };
  }

  // --- consents --------------------------------------------------------------------------------

  async createConsent(request: ConsentRequest, now: number): Promise<BankAnswer> {
    const { body } = request;
    const today = isoDay(now);
    if (body.validUntil < today) return tppError(400, 'PERIOD_INVALID', 'validUntil is in the past');
    const scenario = request.psuId !== undefined ? scenarioFor(request.psuId) : null;
    if (scenario?.login === 'unavailable') return { status: 503 };
    // The approach: what the TPP prefers, among what this bank offers (all three).
    const approach: ScaApproach = request.decoupledPreferred === true ? 'DECOUPLED' : request.redirectPreferred === false ? 'EMBEDDED' : 'REDIRECT';
    const access = body.access;
    const bankOffered = access.allPsd2 === undefined && access.availableAccounts === undefined && ['accounts', 'balances', 'transactions'].every((k) => access[k] === undefined || (Array.isArray(access[k]) && (access[k] as unknown[]).length === 0));
    if (approach === 'EMBEDDED' && bankOffered) return tppError(400, 'PARAMETER_NOT_SUPPORTED', 'a bank-offered consent is not supported with the embedded approach');
    if (approach === 'REDIRECT' && request.redirectUri === undefined) return tppError(400, 'FORMAT_ERROR', 'TPP-Redirect-URI is required for the redirect approach');
    if (approach !== 'REDIRECT' && request.psuId === undefined) return tppError(400, 'FORMAT_ERROR', 'PSU-ID is required for this approach');
    if (approach !== 'REDIRECT' && scenario?.login === 'locked') return tppError(403, 'SERVICE_BLOCKED', 'The online banking access of this PSU is blocked.');

    await this.forgetOld(now);
    const id = randomUUID();
    const validUntil = body.validUntil > addDays(today, MAX_VALIDITY_DAYS) ? addDays(today, MAX_VALIDITY_DAYS) : body.validUntil;
    const frequency = body.recurringIndicator ? Math.min(body.frequencyPerDay, PSD2_UNATTENDED_READS_PER_DAY) : 1;
    await this.db
      .insertInto('xs2a_sandbox_consents')
      .values({
        id,
        status: 'received',
        approach,
        access: JSON.stringify(access),
        recurring: body.recurringIndicator ? 1 : 0,
        valid_until: validUntil,
        frequency_per_day: frequency,
        psu_id: request.psuId ?? null,
        tpp_redirect_uri: request.redirectUri ?? null,
        tpp_nok_redirect_uri: request.nokRedirectUri ?? null,
        psu_message: null,
        attempts: 0,
        created_at: now,
        authorised_at: null,
        last_action_at: now,
      })
      .execute();
    const headers = { location: `${this.settings.apiPrefix}/v1/consents/${id}`, 'aspsp-sca-approach': approach };
    const base = { consentStatus: 'received', consentId: id };
    switch (approach) {
      case 'REDIRECT': {
        if (this.settings.explicitStart) {
          return { status: 201, headers, body: { ...base, _links: { ...this.consentLinks(id), startAuthorisation: this.link(`/v1/consents/${id}/authorisations`) } } };
        }
        const { authorisationId, token } = await this.newAuthorisation(id, 'received', now, REDIRECT_TTL_MS);
        return {
          status: 201,
          headers,
          body: { ...base, _links: { ...this.consentLinks(id), scaRedirect: { href: `${this.settings.pagesUrl}/sca/${token}` }, scaStatus: this.link(`/v1/consents/${id}/authorisations/${authorisationId}`) } },
        };
      }
      case 'DECOUPLED':
        return { status: 201, headers, body: { ...base, _links: { ...this.consentLinks(id), startAuthorisationWithPsuIdentification: this.link(`/v1/consents/${id}/authorisations`) } } };
      case 'EMBEDDED':
        return { status: 201, headers, body: { ...base, _links: { ...this.consentLinks(id), startAuthorisationWithPsuAuthentication: this.link(`/v1/consents/${id}/authorisations`) } } };
    }
  }

  async startAuthorisation(consentId: string, request: { psuId: string | undefined; body: Record<string, unknown>; culture: Culture }, now: number): Promise<BankAnswer> {
    const consent = await this.consent(consentId);
    if (consent === null) return tppError(403, 'CONSENT_UNKNOWN');
    if (consent.status !== 'received') return tppError(409, 'STATUS_INVALID', `the consent is ${consent.status}`);
    const authLink = (authorisationId: string) => this.link(`/v1/consents/${consentId}/authorisations/${authorisationId}`);
    switch (consent.approach) {
      case 'REDIRECT': {
        const { authorisationId, token } = await this.newAuthorisation(consentId, 'received', now, REDIRECT_TTL_MS);
        return { status: 201, headers: { 'aspsp-sca-approach': 'REDIRECT' }, body: { scaStatus: 'received', authorisationId, _links: { scaRedirect: { href: `${this.settings.pagesUrl}/sca/${token}` }, scaStatus: authLink(authorisationId) } } };
      }
      case 'DECOUPLED': {
        if (request.psuId !== undefined && request.psuId !== consent.psu_id) return tppError(401, 'PSU_CREDENTIALS_INVALID', 'PSU-ID does not match the consent');
        const rejected = scenarioFor(consent.psu_id ?? '')?.login === 'rejected';
        const { authorisationId, token } = await this.newAuthorisation(consentId, rejected ? 'failed' : 'started', now, DECOUPLED_TTL_MS);
        // The `rejected` user's phone has rejected the request before Ferry first asks.
        if (rejected) await this.setConsent(consentId, { status: 'rejected', psu_message: null }, now);
        return {
          status: 201,
          headers: { 'aspsp-sca-approach': 'DECOUPLED' },
          body: {
            scaStatus: rejected ? 'failed' : 'started',
            authorisationId,
            psuMessage: providerMessage(request.culture, 'pollMessage', { bank: 'Sandbox NextGenPSD2 Bank' }),
            _links: { scaStatus: authLink(authorisationId), sandboxApproval: { href: `${this.settings.pagesUrl}/app/${token}` } },
          },
        };
      }
      case 'EMBEDDED': {
        const psuData = request.body.psuData as { password?: unknown } | undefined;
        if (typeof psuData?.password !== 'string' || psuData.password === '') return tppError(400, 'FORMAT_ERROR', 'psuData.password is required');
        if (request.psuId !== undefined && request.psuId !== consent.psu_id) return tppError(401, 'PSU_CREDENTIALS_INVALID', 'PSU-ID does not match the consent');
        const scenario = scenarioFor(consent.psu_id ?? '');
        if (scenario?.login === 'wrongPasswordOnce' && consent.attempts === 0) {
          await this.db.updateTable('xs2a_sandbox_consents').set({ attempts: consent.attempts + 1, last_action_at: now }).where('id', '=', consentId).execute();
          return tppError(401, 'PSU_CREDENTIALS_INVALID', 'The password is not correct.');
        }
        if (scenario?.login === 'rejected') {
          const { authorisationId } = await this.newAuthorisation(consentId, 'failed', now, EMBEDDED_TTL_MS);
          await this.setConsent(consentId, { status: 'rejected', psu_message: 'The bank refused this consent.' }, now);
          return { status: 201, headers: { 'aspsp-sca-approach': 'EMBEDDED' }, body: { scaStatus: 'failed', authorisationId, _links: { scaStatus: authLink(authorisationId) } } };
        }
        if (this.settings.embeddedMethods === 1) {
          const { authorisationId } = await this.newAuthorisation(consentId, 'scaMethodSelected', now, EMBEDDED_TTL_MS, SCA_METHODS[0]!.authenticationMethodId);
          return { status: 201, headers: { 'aspsp-sca-approach': 'EMBEDDED' }, body: { scaStatus: 'scaMethodSelected', authorisationId, ...this.challenge(SCA_METHODS[0]!), _links: { authoriseTransaction: authLink(authorisationId), scaStatus: authLink(authorisationId) } } };
        }
        const { authorisationId } = await this.newAuthorisation(consentId, 'psuAuthenticated', now, EMBEDDED_TTL_MS);
        return { status: 201, headers: { 'aspsp-sca-approach': 'EMBEDDED' }, body: { scaStatus: 'psuAuthenticated', authorisationId, scaMethods: SCA_METHODS, _links: { selectAuthenticationMethod: authLink(authorisationId), scaStatus: authLink(authorisationId) } } };
      }
    }
  }

  private challenge(method: (typeof SCA_METHODS)[number]) {
    return { chosenScaMethod: method, challengeData: { otpMaxLength: SANDBOX_OTP_CODE.length, otpFormat: 'integer', additionalInformation: `Sandbox: the code is ${SANDBOX_OTP_CODE}.` } };
  }

  /** Update PSU data (embedded): choose the SCA method, then send the one-time code. */
  async updatePsuData(consentId: string, authorisationId: string, body: Record<string, unknown>, now: number): Promise<BankAnswer> {
    const found = await this.authorisation(consentId, authorisationId, now);
    if (found === null) return tppError(403, 'RESOURCE_UNKNOWN');
    const { consent, authorisation } = found;
    if (consent.approach !== 'EMBEDDED' || consent.status !== 'received') return tppError(409, 'STATUS_INVALID', `the consent is ${consent.status}`);
    const link = this.link(`/v1/consents/${consentId}/authorisations/${authorisationId}`);
    if (typeof body.authenticationMethodId === 'string') {
      const method = SCA_METHODS.find((m) => m.authenticationMethodId === body.authenticationMethodId);
      if (authorisation.sca_status !== 'psuAuthenticated') return tppError(409, 'STATUS_INVALID', `the authorisation is ${authorisation.sca_status}`);
      if (method === undefined) return tppError(400, 'SCA_METHOD_UNKNOWN');
      await this.db.updateTable('xs2a_sandbox_authorisations').set({ sca_status: 'scaMethodSelected', method_id: method.authenticationMethodId }).where('id', '=', authorisationId).execute();
      return { status: 200, headers: { 'aspsp-sca-approach': 'EMBEDDED' }, body: { scaStatus: 'scaMethodSelected', ...this.challenge(method), _links: { authoriseTransaction: link, scaStatus: link } } };
    }
    if (typeof body.scaAuthenticationData === 'string') {
      if (authorisation.sca_status !== 'scaMethodSelected') return tppError(409, 'STATUS_INVALID', `the authorisation is ${authorisation.sca_status}`);
      const wrongOnce = scenarioFor(consent.psu_id ?? '')?.login === 'wrongPasswordOnce' && authorisation.attempts === 0;
      if (body.scaAuthenticationData !== SANDBOX_OTP_CODE || wrongOnce) {
        const attempts = authorisation.attempts + 1;
        if (attempts >= MAX_WRONG) {
          await this.db.updateTable('xs2a_sandbox_authorisations').set({ sca_status: 'failed', attempts }).where('id', '=', authorisationId).execute();
          await this.setConsent(consentId, { status: 'rejected', psu_message: 'Too many wrong codes.' }, now);
          return { status: 200, body: { scaStatus: 'failed', psuMessage: 'Too many wrong codes.', _links: { scaStatus: link } } };
        }
        await this.db.updateTable('xs2a_sandbox_authorisations').set({ attempts }).where('id', '=', authorisationId).execute();
        return tppError(401, 'PSU_CREDENTIALS_INVALID', 'The one-time code is not correct.');
      }
      await this.authorise(consent, authorisationId, consent.psu_id!, now);
      return { status: 200, body: { scaStatus: 'finalised', _links: { scaStatus: link } } };
    }
    return tppError(400, 'FORMAT_ERROR', 'expected authenticationMethodId or scaAuthenticationData');
  }

  async scaStatus(consentId: string, authorisationId: string, now: number): Promise<BankAnswer> {
    const found = await this.authorisation(consentId, authorisationId, now, true);
    if (found === null) return tppError(403, 'RESOURCE_UNKNOWN');
    return { status: 200, body: { scaStatus: found.authorisation.sca_status } };
  }

  async consentStatus(consentId: string, now: number): Promise<BankAnswer> {
    const consent = await this.current(consentId, now);
    if (consent === null) return tppError(403, 'CONSENT_UNKNOWN');
    return { status: 200, body: { consentStatus: consent.status, ...(consent.psu_message !== null ? { psuMessage: consent.psu_message } : {}) } };
  }

  async consentInformation(consentId: string, now: number): Promise<BankAnswer> {
    const consent = await this.current(consentId, now);
    if (consent === null) return tppError(403, 'CONSENT_UNKNOWN');
    let access = JSON.parse(consent.access) as Record<string, unknown>;
    if (consent.status === 'valid' && consent.psu_id !== null) {
      // After the authorisation, the consent names the accounts the user gave access to.
      const ibans = this.grantedAccounts(consent).map((a) => ({ iban: a.plan.number!.iban }));
      access = { accounts: ibans, balances: ibans, transactions: ibans };
    }
    return {
      status: 200,
      body: {
        access,
        recurringIndicator: consent.recurring === 1,
        validUntil: consent.valid_until,
        frequencyPerDay: consent.frequency_per_day,
        lastActionDate: isoDay(consent.last_action_at),
        consentStatus: consent.status,
        _links: { account: this.link('/v1/accounts') },
      },
    };
  }

  async deleteConsent(consentId: string, now: number): Promise<BankAnswer> {
    const consent = await this.consent(consentId);
    if (consent === null) return tppError(403, 'CONSENT_UNKNOWN');
    await this.setConsent(consentId, { status: 'terminatedByTpp', psu_message: null }, now);
    return { status: 204 };
  }

  /** The PSU revokes the consent at the bank (tests, and a developer's sandbox). */
  async revokeConsent(consentId: string, now: number): Promise<void> {
    await this.setConsent(consentId, { status: 'revokedByPsu', psu_message: null }, now);
  }

  // --- account information ---------------------------------------------------------------------

  /** Checks the `Consent-ID` of a read, and counts the read when the user is not present. */
  private async readable(consentId: string | undefined, resource: string | null, userPresent: boolean, now: number): Promise<{ consent: ConsentRow } | { answer: BankAnswer }> {
    const consent = consentId === undefined ? null : await this.current(consentId, now);
    if (consent === null) return { answer: tppError(403, 'CONSENT_UNKNOWN') };
    if (consent.status === 'expired') return { answer: tppError(401, 'CONSENT_EXPIRED') };
    if (consent.status !== 'valid' || consent.psu_id === null) return { answer: tppError(401, 'CONSENT_INVALID', `the consent is ${consent.status}`) };
    if (resource !== null && !userPresent) {
      // RTS art. 36(5): reads without the PSU are limited to frequencyPerDay per day.
      const day = isoDay(now);
      const row = await this.db.selectFrom('xs2a_sandbox_accesses').select('count').where('consent_id', '=', consent.id).where('resource', '=', resource).where('day', '=', day).executeTakeFirst();
      if ((row?.count ?? 0) >= consent.frequency_per_day) return { answer: tppError(429, 'ACCESS_EXCEEDED', `at most ${consent.frequency_per_day} reads a day without the PSU`) };
      if (row === undefined) await this.db.insertInto('xs2a_sandbox_accesses').values({ consent_id: consent.id, resource, day, count: 1 }).execute();
      else await this.db.updateTable('xs2a_sandbox_accesses').set({ count: row.count + 1 }).where('consent_id', '=', consent.id).where('resource', '=', resource).where('day', '=', day).execute();
    }
    return { consent };
  }

  private grantedAccounts(consent: ConsentRow): SandboxXs2aAccount[] {
    const all = sandboxCustomerAccounts(consent.psu_id!, consent.id, consent.authorised_at ?? consent.created_at);
    const access = JSON.parse(consent.access) as Record<string, unknown>;
    const named = ['accounts', 'balances', 'transactions'].flatMap((k) => (Array.isArray(access[k]) ? (access[k] as { iban?: string }[]) : [])).map((r) => r.iban);
    return named.length === 0 ? all : all.filter((a) => named.includes(a.plan.number!.iban));
  }

  async accounts(request: { consentId: string | undefined; withBalance: boolean; userPresent: boolean }, now: number): Promise<BankAnswer> {
    const checked = await this.readable(request.consentId, 'accounts', request.userPresent, now);
    if ('answer' in checked) return checked.answer;
    const accounts = this.grantedAccounts(checked.consent).map((a) =>
      accountDetails(a, this.accountLinks(a.resourceId), request.withBalance ? accountBalances(currentView(a, now), now) : undefined),
    );
    return { status: 200, body: { accounts } };
  }

  private accountLinks(resourceId: string) {
    return { balances: `${this.settings.apiPrefix}/v1/accounts/${resourceId}/balances`, transactions: `${this.settings.apiPrefix}/v1/accounts/${resourceId}/transactions` };
  }

  async balances(resourceId: string, request: { consentId: string | undefined; userPresent: boolean }, now: number): Promise<BankAnswer> {
    const checked = await this.readable(request.consentId, `balances:${resourceId}`, request.userPresent, now);
    if ('answer' in checked) return checked.answer;
    const account = this.grantedAccounts(checked.consent).find((a) => a.resourceId === resourceId);
    if (account === undefined) return tppError(404, 'RESOURCE_UNKNOWN');
    return { status: 200, body: { account: { iban: account.plan.number!.iban, currency: account.plan.currency }, balances: accountBalances(currentView(account, now), now) } };
  }

  async transactions(
    resourceId: string,
    request: { consentId: string | undefined; userPresent: boolean; bookingStatus: string; dateFrom: string | undefined; dateTo: string | undefined; pageIndex: number | undefined },
    now: number,
  ): Promise<BankAnswer> {
    const today = isoDay(now);
    const page = request.pageIndex ?? 0;
    // Only the first page is a new access; the pages that follow belong to it.
    const checked = await this.readable(request.consentId, page === 0 ? `transactions:${resourceId}` : null, request.userPresent, now);
    if ('answer' in checked) return checked.answer;
    const account = this.grantedAccounts(checked.consent).find((a) => a.resourceId === resourceId);
    if (account === undefined) return tppError(404, 'RESOURCE_UNKNOWN');
    if (!['booked', 'pending', 'both'].includes(request.bookingStatus)) return tppError(400, 'PARAMETER_NOT_SUPPORTED', `bookingStatus ${request.bookingStatus} is not supported`);
    const dateFrom = request.dateFrom;
    if (dateFrom === undefined) return tppError(400, 'FORMAT_ERROR', 'dateFrom is required');
    const dateTo = request.dateTo ?? today;
    if (dateFrom > dateTo) return tppError(400, 'PERIOD_INVALID', 'dateFrom is after dateTo');
    const earliest = isoDay(now - HISTORY_DAYS * 86_400_000);
    const from = dateFrom < earliest ? earliest : dateFrom;
    const to = dateTo > today ? today : dateTo;
    const entries = (from > to ? [] : accountEntries(account, from, to, now)).filter((t) => request.bookingStatus === 'both' || (request.bookingStatus === 'booked') === (t.state === 'Booked'));
    const slice = entries.slice(page * this.settings.pageSize, (page + 1) * this.settings.pageSize);
    const booked: Transaction[] = [];
    const pending: Transaction[] = [];
    for (const t of slice) (t.state === 'Booked' ? booked : pending).push(transactionEntry(t));
    const base = `${this.settings.apiPrefix}/v1/accounts/${resourceId}`;
    const query = (index: number) => `${base}/transactions?${new URLSearchParams({ bookingStatus: request.bookingStatus, dateFrom, ...(request.dateTo !== undefined ? { dateTo: request.dateTo } : {}), pageIndex: String(index) })}`;
    const links: Links = { account: { href: base } };
    if ((page + 1) * this.settings.pageSize < entries.length) links.next = { href: query(page + 1) };
    const report: AccountReport = { _links: links };
    if (request.bookingStatus !== 'pending') report.booked = booked;
    if (request.bookingStatus !== 'booked') report.pending = pending;
    return { status: 200, body: { account: { iban: account.plan.number!.iban, currency: account.plan.currency }, transactions: report } };
  }

  // --- the bank's own pages ----------------------------------------------------------------------

  /** The redirect login page's request, while it may still be used. */
  async redirectLogin(token: string, now: number): Promise<{ consent: ConsentRow; authorisation: AuthorisationRow } | null> {
    const found = await this.byToken(token, now);
    if (found === null || found.consent.approach !== 'REDIRECT' || found.authorisation.sca_status !== 'received' || found.consent.status !== 'received') return null;
    return found;
  }

  /**
   * The user logs in at the bank (or cancels): the bank sends the browser to `TPP-Redirect-URI`,
   * or to `TPP-Nok-Redirect-URI` when the consent was not granted.
   */
  async submitRedirectLogin(token: string, form: { action: 'login' | 'cancel'; username: string; password: string }, now: number): Promise<{ kind: 'redirect'; location: string } | { kind: 'error'; error: 'errUsernameRequired' | 'errPasswordRequired' | 'errWrongPassword' } | { kind: 'gone' }> {
    const found = await this.redirectLogin(token, now);
    if (found === null) return { kind: 'gone' };
    const { consent, authorisation } = found;
    if (form.action === 'cancel') return this.redirectBack(consent, authorisation, 'rejected', null, now);
    const username = form.username.trim();
    if (username === '' || username.length > 100) return { kind: 'error', error: 'errUsernameRequired' };
    if (form.password === '') return { kind: 'error', error: 'errPasswordRequired' };
    switch (scenarioFor(username)?.login) {
      case 'wrongPasswordOnce':
        if (authorisation.attempts === 0) {
          await this.db.updateTable('xs2a_sandbox_authorisations').set({ attempts: 1 }).where('id', '=', authorisation.id).execute();
          return { kind: 'error', error: 'errWrongPassword' };
        }
        break;
      case 'locked':
        return this.redirectBack(consent, authorisation, 'rejected', 'Your online banking access is blocked. Please contact your bank.', now);
      case 'unavailable':
        return this.redirectBack(consent, authorisation, 'rejected', 'The bank is not available right now.', now);
      case 'rejected':
        return this.redirectBack(consent, authorisation, 'rejected', null, now);
      default:
        break;
    }
    await this.db.updateTable('xs2a_sandbox_consents').set({ psu_id: username }).where('id', '=', consent.id).execute();
    return this.redirectBack({ ...consent, psu_id: username }, authorisation, 'valid', null, now);
  }

  private async redirectBack(consent: ConsentRow, authorisation: AuthorisationRow, outcome: 'valid' | 'rejected', psuMessage: string | null, now: number): Promise<{ kind: 'redirect'; location: string } | { kind: 'gone' }> {
    const decided = await this.db
      .updateTable('xs2a_sandbox_authorisations')
      .set({ sca_status: outcome === 'valid' ? 'finalised' : 'failed', token_hash: null })
      .where('id', '=', authorisation.id)
      .where('sca_status', '=', 'received')
      .executeTakeFirst();
    if (Number(decided.numUpdatedRows) !== 1) return { kind: 'gone' };
    if (outcome === 'valid') await this.authorise(consent, null, consent.psu_id!, now);
    else await this.setConsent(consent.id, { status: 'rejected', psu_message: psuMessage }, now);
    const location = outcome === 'valid' ? consent.tpp_redirect_uri : (consent.tpp_nok_redirect_uri ?? consent.tpp_redirect_uri);
    return location === null ? { kind: 'gone' } : { kind: 'redirect', location };
  }

  /** The decoupled "phone": the pending request, or its outcome. */
  async appRequest(token: string, now: number): Promise<{ consent: ConsentRow; authorisation: AuthorisationRow } | null> {
    const found = await this.byToken(token, now);
    return found !== null && found.consent.approach === 'DECOUPLED' ? found : null;
  }

  async decideApp(token: string, decision: { action: 'approve' | 'reject'; pin: string }, now: number): Promise<'approved' | 'rejected' | 'errPinFormat' | 'errPin' | 'gone'> {
    const found = await this.appRequest(token, now);
    if (found === null || found.authorisation.sca_status !== 'started' || found.consent.status !== 'received') return 'gone';
    const { consent, authorisation } = found;
    if (decision.action === 'reject') {
      await this.db.updateTable('xs2a_sandbox_authorisations').set({ sca_status: 'failed' }).where('id', '=', authorisation.id).execute();
      await this.setConsent(consent.id, { status: 'rejected', psu_message: null }, now);
      return 'rejected';
    }
    if (!/^\d{4,8}$/.test(decision.pin)) return 'errPinFormat';
    if (scenarioFor(consent.psu_id ?? '')?.login === 'wrongPasswordOnce' && authorisation.attempts === 0) {
      await this.db.updateTable('xs2a_sandbox_authorisations').set({ attempts: 1 }).where('id', '=', authorisation.id).execute();
      return 'errPin';
    }
    await this.authorise(consent, authorisation.id, consent.psu_id!, now);
    return 'approved';
  }

  // --- rows ------------------------------------------------------------------------------------

  private async newAuthorisation(consentId: string, status: AuthorisationRow['sca_status'], now: number, ttlMs: number, methodId: string | null = null): Promise<{ authorisationId: string; token: string }> {
    const authorisationId = randomUUID();
    const token = randomToken(24);
    await this.db
      .insertInto('xs2a_sandbox_authorisations')
      .values({ id: authorisationId, consent_id: consentId, sca_status: status, token_hash: sha256(token), method_id: methodId, attempts: 0, created_at: now, expires_at: now + ttlMs })
      .execute();
    return { authorisationId, token };
  }

  private async authorise(consent: ConsentRow, authorisationId: string | null, psuId: string, now: number): Promise<void> {
    if (authorisationId !== null) await this.db.updateTable('xs2a_sandbox_authorisations').set({ sca_status: 'finalised' }).where('id', '=', authorisationId).execute();
    await this.db.updateTable('xs2a_sandbox_consents').set({ status: 'valid', psu_id: psuId, authorised_at: now, last_action_at: now }).where('id', '=', consent.id).where('status', '=', 'received').execute();
  }

  private async setConsent(id: string, fields: { status: ConsentRow['status']; psu_message: string | null }, now: number): Promise<void> {
    await this.db.updateTable('xs2a_sandbox_consents').set({ ...fields, last_action_at: now }).where('id', '=', id).execute();
  }

  private async consent(id: string): Promise<ConsentRow | null> {
    if (id.length === 0 || id.length > 100) return null;
    return (await this.db.selectFrom('xs2a_sandbox_consents').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /** The consent as of now: a valid one past its last day has expired. */
  private async current(id: string, now: number): Promise<ConsentRow | null> {
    const consent = await this.consent(id);
    if (consent !== null && consent.status === 'valid' && consent.valid_until < isoDay(now)) {
      await this.setConsent(id, { status: 'expired', psu_message: null }, now);
      return { ...consent, status: 'expired' };
    }
    return consent;
  }

  private async authorisation(consentId: string, authorisationId: string, now: number, evenExpired = false): Promise<{ consent: ConsentRow; authorisation: AuthorisationRow } | null> {
    if (authorisationId.length === 0 || authorisationId.length > 100) return null;
    const authorisation = await this.db.selectFrom('xs2a_sandbox_authorisations').selectAll().where('id', '=', authorisationId).where('consent_id', '=', consentId).executeTakeFirst();
    const consent = await this.consent(consentId);
    if (authorisation === undefined || consent === null || (!evenExpired && authorisation.expires_at <= now)) return null;
    return { consent, authorisation };
  }

  private async byToken(token: string, now: number): Promise<{ consent: ConsentRow; authorisation: AuthorisationRow } | null> {
    if (token.length === 0 || token.length > 100) return null;
    const authorisation = await this.db.selectFrom('xs2a_sandbox_authorisations').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
    if (authorisation === undefined || authorisation.expires_at <= now) return null;
    const consent = await this.consent(authorisation.consent_id);
    return consent === null ? null : { consent, authorisation };
  }

  private async forgetOld(now: number): Promise<void> {
    await this.db.deleteFrom('xs2a_sandbox_authorisations').where('expires_at', '<', now - 86_400_000).execute();
    await this.db.deleteFrom('xs2a_sandbox_accesses').where('day', '<', isoDay(now - 3 * 86_400_000)).execute();
    await this.db.deleteFrom('xs2a_sandbox_consents').where('created_at', '<', now - CONSENT_RETENTION_MS).execute();
  }
}

/**
 * The bank provider interface. Every bank Ferry connects to, sandbox or real, implements it, and
 * the provider conformance suite (test/providers/conformance.test.ts) proves each one the same way.
 *
 * Providers are stateless objects: everything a login needs between two HTTP requests lives in a
 * JSON-serialisable `LoginState` that the hosted flow stores in its database row, so any Ferry
 * process can carry on a login another one started.
 */

export type ProviderStatus = 'Up' | 'Degraded' | 'Down';
export type LoginMethod = 'Password' | 'PasswordAndOtp' | 'Decoupled' | 'Redirect';
export type Culture = 'en' | 'da' | 'sv' | 'nb' | 'fi' | 'de';

/** Money in integer minor units (øre, cents): never a float. */
export interface Money {
  currency: string;
  /** Minor units; e.g. -29100 for -291.00 DKK. */
  minor: number;
}

export interface ProviderDescription {
  id: string;
  name: string;
  countryCode: string;
  currency: string;
  /** Path Ferry serves the logo at (own assets, no CDN), e.g. `/assets/banks/testdatabank1.svg`. */
  logoUrl: string;
  status: ProviderStatus;
  loginMethods: LoginMethod[];
  /** Bank needs the user present for every update (`POST /v1/update` → SupervisedLoginRequired). */
  requiresSupervisedUpdate: boolean;
}

export interface FormField {
  name: string;
  type: 'text' | 'password' | 'otp';
  label: string;
  /** Shown under the field (e.g. the sandbox's "the code is 123456"). */
  hint?: string;
  autocomplete?: string;
  inputMode?: 'text' | 'numeric';
  /**
   * The values the field takes, when the user picks one (a bank's SCA methods). A flow may show
   * them as radio buttons; a flow that does not still works, as the hint lists them by number and
   * the provider accepts the number or the value.
   */
  options?: { value: string; label: string }[];
}

/** What the hosted flow must do next in a login. */
export type LoginStep =
  | { kind: 'form'; state: LoginState; title: string; fields: FormField[]; error?: LoginErrorText }
  | { kind: 'redirect'; state: LoginState; url: string }
  | { kind: 'poll'; state: LoginState; message: string; pollAfterMs: number; approveUrl?: string }
  | { kind: 'done'; connection: ProviderConnection }
  | { kind: 'failed'; reason: LoginFailureReason; message: string; retryable: boolean };

export type LoginFailureReason =
  | 'InvalidCredentials'
  | 'AccountLocked'
  | 'BankUnavailable'
  | 'RejectedByUser'
  | 'Timeout'
  | 'Cancelled';

export interface LoginErrorText {
  field?: string;
  message: string;
  /** Why the step was refused, when it maps to a failure reason (e.g. a wrong password). */
  reason?: LoginFailureReason;
}

/** Opaque to the flow; JSON only. */
export type LoginState = Record<string, unknown>;

/** Input to the next login step: submitted form fields, the bank's redirect back, or a poll. */
export type LoginInput =
  | { kind: 'form'; fields: Record<string, string> }
  | { kind: 'callback'; query: Record<string, string> }
  | { kind: 'poll' };

export interface LoginContext {
  culture: Culture;
  /** Ferry's public base URL, for building the bank's return address. */
  publicUrl: string;
  /** Where the bank must send the user back to (the flow's callback URL). */
  returnUrl: string;
  now(): number;
  /**
   * The consent is for one access (Aiia's one-time flow, `scope=accounts`): banks that know the
   * difference (PSD2: `recurringIndicator`, `frequencyPerDay`) are asked for that only. Default false.
   */
  oneTime?: boolean;
  /** The user's browser, as the bank must see it during the login (PSD2: `PSU-IP-Address`, …). */
  psu?: PsuContext;
}

/**
 * What Ferry forwards about the user's browser while the user is present (NextGenPSD2 `PSU-*`
 * headers): taken from the user's request to Ferry, never made up.
 */
export interface PsuContext {
  /** The user's IP address (Fastify's `request.ip`, behind `FERRY_TRUST_PROXY`). */
  ipAddress: string;
  ipPort?: number;
  userAgent?: string;
  accept?: string;
  acceptCharset?: string;
  acceptEncoding?: string;
  acceptLanguage?: string;
  /** The method of the user's request to Ferry (`GET`, `POST`). */
  httpMethod?: string;
}

/** What a successful login leaves: opaque to Ferry, JSON only, stored with the consent. */
export interface ProviderConnection {
  providerId: string;
  /** Provider's own reference to the user's bank session/credentials (never a password). */
  reference: string;
  /** JSON-safe extra data for later fetches. */
  data?: Record<string, unknown>;
  createdAt: number;
}

export interface BankAccount {
  /** Stable per user and bank; unique across users. */
  id: string;
  name: string;
  owner: string;
  type: 'Consumption' | 'Savings' | 'Credit' | 'Card' | 'Loan' | 'Pension' | 'Other';
  currency: string;
  booked: Money | null;
  available: Money | null;
  bban: string | null;
  bbanParsed: { bankCode: string; accountNumber: string } | null;
  bbanType: string | null;
  iban: string | null;
  /** Masked PAN for card accounts, e.g. `•••• 1234`. */
  card: string | null;
}

export interface BankTransaction {
  /** Stable id at the bank; a pending transaction's id may change when it books (see `pendingId`). */
  id: string;
  /** For a booked transaction that was pending before: the id it had while pending. */
  pendingId?: string;
  date: string; // YYYY-MM-DD
  valueDate: string | null;
  text: string;
  originalText: string;
  amount: Money;
  /** Running balance after this transaction (booked transactions only; null for pending). */
  balance: Money | null;
  state: 'Booked' | 'Reserved';
  type: 'Card' | 'Transfer' | 'DirectDebit' | 'Salary' | 'Fee' | 'Interest' | 'Cash' | 'Other';
  counterpartyName: string | null;
  category: string | null;
}

export interface FetchContext {
  now(): number;
  /**
   * The user asked for this read and is at the screen (the hosted flow's account list). Banks allow
   * such reads without limit, and count every other one (PSD2: at most `frequencyPerDay` a day).
   * Background jobs leave it unset: a sync never passes for the user.
   */
  userPresent?: boolean;
  /** With `userPresent`: the user's browser, forwarded as the bank asks (`PSU-IP-Address`, …). */
  psu?: PsuContext;
}

/** What the bank allows on a connection, so the sync plans its reads within it. */
export interface AccessLimits {
  /** Reads a day without the user (per account and kind of data); null when the bank sets none. */
  unattendedReadsPerDay: number | null;
  /** When the consent at the bank ends (epoch ms) and the user must log in again; null: no end known. */
  expiresAt: number | null;
}

export interface BankProvider {
  describe(): ProviderDescription;
  /** The logo Ferry serves at `describe().logoUrl`, as SVG markup (own asset, no CDN). */
  logoSvg?(): string;
  /** Starts a login (method chosen by the provider, or the user's pick). */
  startLogin(ctx: LoginContext): Promise<LoginStep>;
  /** Advances a login from its stored state. Never throws for user or bank errors: returns `failed`. */
  continueLogin(state: LoginState, input: LoginInput, ctx: LoginContext): Promise<LoginStep>;
  listAccounts(connection: ProviderConnection, ctx: FetchContext): Promise<BankAccount[]>;
  /** Transactions of one account whose date is within [from, to] (YYYY-MM-DD, inclusive), newest first. */
  fetchTransactions(
    connection: ProviderConnection,
    accountId: string,
    range: { from: string; to: string },
    ctx: FetchContext,
  ): Promise<BankTransaction[]>;
  /** The bank's limits on this connection (real banks); a provider without any leaves it out. */
  accessLimits?(connection: ProviderConnection): AccessLimits;
  /** Ends the user's consent at the bank (revocation in Ferry, erasure); banks without one leave it out. */
  revokeConnection?(connection: ProviderConnection, ctx: FetchContext): Promise<void>;
}

import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The one `Database` interface every query is typed by. Times are integer milliseconds since the
 * epoch (UTC); booleans are 0/1 so the same columns work on SQLite and PostgreSQL.
 */
export interface Database {
  users: UsersTable;
  email_codes: EmailCodesTable;
  user_sessions: UserSessionsTable;
  sandbox_mail: SandboxMailTable;
  rate_limits: RateLimitsTable;
  deletion_receipts: DeletionReceiptsTable;
  connections: ConnectionsTable;
  accounts: AccountsTable;
  transactions: TransactionsTable;
  jobs: JobsTable;
  events: EventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  apps: AppsTable;
  app_redirect_uris: AppRedirectUrisTable;
  settings: SettingsTable;
  signing_keys: SigningKeysTable;
  flow_sessions: FlowSessionsTable;
  consents: ConsentsTable;
  authorization_codes: AuthorizationCodesTable;
  grants: GrantsTable;
  refresh_tokens: RefreshTokensTable;
  sandbox_bank_logins: SandboxBankLoginsTable;
  xs2a_unattended_reads: Xs2aUnattendedReadsTable;
  xs2a_sandbox_consents: Xs2aSandboxConsentsTable;
  xs2a_sandbox_authorisations: Xs2aSandboxAuthorisationsTable;
  xs2a_sandbox_accesses: Xs2aSandboxAccessesTable;
  app_owners: AppOwnersTable;
  portal_invitations: PortalInvitationsTable;
}

export interface AppsTable {
  id: string;
  name: string;
  secret_hash: string;
  /** The previous secret's hash, accepted until `previous_secret_expires_at` (secret rotation grace). */
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  webhook_url: string | null;
  webhook_secret: string | null;
  logo_url: string | null;
  brand_color: string | null;
  is_demo: number;
  created_at: number;
}
export type AppRow = Selectable<AppsTable>;

export interface AppRedirectUrisTable {
  app_id: string;
  uri: string;
  created_at: number;
}

/** Small deployment-wide values (the demo app's credentials). */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** base64url key material (HMAC secret). */
  secret: string;
  created_at: number;
  /** Set when a newer key takes over signing; the key still verifies until tokens it signed expire. */
  retired_at: number | null;
}
export type SigningKeyRow = Selectable<SigningKeysTable>;

export interface FlowSessionsTable {
  /** SHA-256 of the flow handle in the hosted-flow URL. */
  id: string;
  app_id: string;
  redirect_uri: string;
  state: string | null;
  scopes: string;
  /** JSON of the other connect parameters (culture, providerId, select_all_accounts, …). */
  params: string;
  code_challenge: string | null;
  /** SHA-256 of the browser's session cookie, bound on first use of the handle. */
  browser_hash: string | null;
  step: string;
  /** JSON scratch space of the hosted flow (chosen bank, login state, accounts). */
  data: string;
  consent_id: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
}
export type FlowSessionRow = Selectable<FlowSessionsTable>;

export interface ConsentsTable {
  id: string;
  app_id: string;
  user_id: string;
  scopes: string;
  one_time: number;
  provider_id: string | null;
  status: string;
  group_id: string | null;
  group_name: string | null;
  created_at: number;
  /** One-time consents: the moment everything about them must be gone. */
  delete_at: number | null;
  revoked_at: number | null;
  /** A one-time consent claimed by a Ferry user (migration 010): its data is kept for them at the deadline. */
  claimed_by: string | null;
}
export type ConsentRow = Selectable<ConsentsTable>;

export interface AuthorizationCodesTable {
  /** SHA-256 of the code. */
  hash: string;
  app_id: string;
  consent_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  /** The grant the code was exchanged for: revoked when the code is replayed (RFC 6749 §4.1.2). */
  grant_id: string | null;
}

export interface GrantsTable {
  /** The token family; `sessionId` in the JWTs. */
  id: string;
  app_id: string;
  consent_id: string;
  scopes: string;
  created_at: number;
  /** Hard end of the family: refresh tokens never outlive it (one-time consents: their deadline). */
  expires_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}
export type GrantRow = Selectable<GrantsTable>;

export interface RefreshTokensTable {
  /** SHA-256 of the refresh token's `jti`. */
  hash: string;
  grant_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type NewApp = Insertable<AppsTable>;
export type Id = Generated<number>;

/** A sandbox bank's pending decoupled or redirect login (src/providers/sandbox/bank-logins.ts). */
export interface SandboxBankLoginsTable {
  /** SHA-256 of the handle in the bank page's URL. */
  id: string;
  provider_id: string;
  method: 'Decoupled' | 'Redirect';
  status: 'Pending' | 'Approved' | 'Rejected' | 'Failed';
  username: string | null;
  culture: string;
  /** Redirect logins: where the bank sends the user back, and the `state` it echoes. */
  return_url: string | null;
  state: string | null;
  /** Redirect logins: SHA-256 of the authorization code the bank issued. */
  code_hash: string | null;
  /** Why the bank refused (`account_locked`, `temporarily_unavailable`, …). */
  error: string | null;
  /** Wrong passwords or PINs so far. */
  attempts: number;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  consumed_at: number | null;
}

export interface ConnectionsTable {
  consent_id: string;
  provider_id: string;
  connection: string;
  created_at: number;
  last_login_at: number;
  bank_account_count: number;
  /** 1 when only a new login at the bank helps (the bank's consent expired or was revoked). */
  needs_login: Generated<number>;
  /** The bank asked for a pause (429 or the day's read budget spent) until then. */
  rate_limited_until: number | null;
}

export interface AccountsTable {
  id: string;
  consent_id: string;
  provider_account_id: string;
  provider_id: string;
  position: number;
  name: string;
  owner: string;
  type: string;
  currency: string;
  booked_minor: number | null;
  available_minor: number | null;
  bban: string | null;
  bban_bank_code: string | null;
  bban_account_number: string | null;
  bban_type: string | null;
  iban: string | null;
  card: string | null;
  sync_status: string;
  last_synchronized: number | null;
  is_orphaned: number;
  group_id: string | null;
  group_name: string | null;
  created_at: number;
  updated_at: number;
  /** A sync's fencing token (src/data/sync.ts `takeSyncFence`): moved on by each sync of the account. */
  sync_fence: Generated<number>;
}
export type AccountRow = Selectable<AccountsTable>;

export interface TransactionsTable {
  id: string;
  account_id: string;
  consent_id: string;
  provider_transaction_id: string;
  date: string;
  ordinal: number;
  value_date: string | null;
  text: string;
  original_text: string;
  amount_minor: number;
  currency: string;
  balance_minor: number | null;
  state: string;
  type: string;
  counterparty_name: string | null;
  category: string | null;
  is_deleted: number;
  created_at: number;
  updated_at: number;
}
export type TransactionRow = Selectable<TransactionsTable>;

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  dedupe_key: string | null;
  consent_id: string | null;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_until: number | null;
  locked_by: string | null;
  last_error: string | null;
  /** pending → running → done | failed */
  status: string;
  created_at: number;
  finished_at: number | null;
}
export type JobRow = Selectable<JobsTable>;

export interface EventsTable {
  id: string;
  app_id: string;
  consent_id: string;
  event: string;
  data: string | null;
  created_at: number;
}

export interface DeletionReceiptsTable {
  consent_id: string;
  app_id: string;
  one_time: number;
  scopes: string;
  consent_created_at: number;
  deadline: number | null;
  erased_at: number;
  reason: string;
  row_counts: string;
}
export type DeletionReceiptRow = Selectable<DeletionReceiptsTable>;

/** One event's delivery to an app's webhook URL (migration 005; src/webhooks/deliveries.ts). */
export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  app_id: string;
  url: string;
  /** pending → delivered | failed */
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  claimed_by: string | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  delivered_at: number | null;
  redelivery_of: string | null;
  created_at: number;
}
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

export interface RateLimitsTable {
  key: string;
  count: number;
  reset_at: number;
}

/** A NextGenPSD2 read made without the user, counted against the bank's `frequencyPerDay` (src/providers/nextgenpsd2/access-budget.ts). */
export interface Xs2aUnattendedReadsTable {
  consent_key: string;
  resource: string;
  read_at: number;
}

/** The simulated NextGenPSD2 bank's consents (src/providers/sandbox/xs2a/). */
export interface Xs2aSandboxConsentsTable {
  id: string;
  status: 'received' | 'rejected' | 'valid' | 'revokedByPsu' | 'expired' | 'terminatedByTpp';
  approach: 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED';
  /** The `access` object the TPP asked for (JSON). */
  access: string;
  recurring: number;
  valid_until: string;
  frequency_per_day: number;
  psu_id: string | null;
  tpp_redirect_uri: string | null;
  tpp_nok_redirect_uri: string | null;
  /** What the bank tells the TPP about the outcome (`psuMessage`). */
  psu_message: string | null;
  /** Wrong passwords so far (embedded approach). */
  attempts: number;
  created_at: number;
  authorised_at: number | null;
  last_action_at: number;
}

export interface Xs2aSandboxAuthorisationsTable {
  id: string;
  consent_id: string;
  sca_status: 'received' | 'psuIdentified' | 'psuAuthenticated' | 'scaMethodSelected' | 'started' | 'finalised' | 'failed';
  token_hash: string | null;
  method_id: string | null;
  /** Wrong PINs or one-time codes so far. */
  attempts: number;
  created_at: number;
  expires_at: number;
}

/** The simulated bank's own count of reads without the user, per consent, resource and day. */
export interface Xs2aSandboxAccessesTable {
  consent_id: string;
  resource: string;
  day: string;
  count: number;
}

/** Ferry accounts (migration 010; src/accounts/). */
export interface UsersTable {
  id: string;
  /** Trimmed, lower-case. */
  email: string;
  created_at: number;
  is_operator: Generated<number>;
}
export type UserRow = Selectable<UsersTable>;

export interface EmailCodesTable {
  id: string;
  email: string;
  purpose: string;
  /** HMAC-SHA-256 of the code: never the code. */
  code_hash: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface UserSessionsTable {
  /** SHA-256 of the cookie's token. */
  id: string;
  user_id: string;
  kind: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

/** Mail Ferry would have sent, when no SMTP server is configured (shown on /sandbox/mailbox). */
export interface SandboxMailTable {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  created_at: number;
}

/** The developer portal (migration 011): the portal users an app belongs to. CLI-created apps have none. */
export interface AppOwnersTable {
  app_id: string;
  user_id: string;
  created_at: number;
}

/** Emails the operator invited to the portal (needed when sign-up is closed); `operator` 0/1. */
export interface PortalInvitationsTable {
  email: string;
  operator: number;
  invited_at: number;
}

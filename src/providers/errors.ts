/**
 * What a provider throws: when it is called wrongly (programming or data errors), and, from
 * `listAccounts` / `fetchTransactions`, when the bank cannot serve a read (the last four classes,
 * which the sync turns into webhooks and a new schedule). Never a user's mistake at the bank during a
 * login: those are `failed` login steps. Each class has a `code` from one closed union, so
 * `switch (error.code)` narrows, as jose does.
 */
export type ProviderErrorCode =
  | 'ConnectionMismatch'
  | 'MalformedConnection'
  | 'UnknownAccount'
  | 'InvalidDateRange'
  | 'InvalidLoginState'
  | 'BankUnavailable'
  | 'BankAnswerInvalid'
  | 'RateLimited'
  | 'ConnectionExpired';

export abstract class ProviderError extends Error {
  abstract readonly code: ProviderErrorCode;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The connection belongs to another provider: a provider never reads another bank's consent. */
export class ConnectionMismatchError extends ProviderError {
  readonly code = 'ConnectionMismatch';
}

/** The connection is not one this provider made (missing or altered fields). */
export class MalformedConnectionError extends ProviderError {
  readonly code = 'MalformedConnection';
}

/** The account id is not one of this connection's accounts. */
export class UnknownAccountError extends ProviderError {
  readonly code = 'UnknownAccount';
}

/** `from`/`to` are not `YYYY-MM-DD` dates. */
export class InvalidDateRangeError extends ProviderError {
  readonly code = 'InvalidDateRange';
}

/** The stored login state is not one this provider wrote. */
export class InvalidLoginStateError extends ProviderError {
  readonly code = 'InvalidLoginState';
}

/**
 * The bank did not answer usefully: a 5xx, a timeout, a network failure, or a refusal that is not
 * about the consent (a certificate the bank rejects, a parameter it does not support). Worth a retry
 * later. `detail` is for the operator's log: status and the bank's codes, never personal data.
 */
export class BankUnavailableError extends ProviderError {
  readonly code = 'BankUnavailable';

  constructor(
    message: string,
    readonly detail: { status?: number; codes?: string[]; cause: 'ServerError' | 'Timeout' | 'Network' | 'Refused' },
  ) {
    super(message);
  }
}

/** The bank answered, but not as its API specification says: Ferry reads nothing it cannot trust. */
export class BankAnswerInvalidError extends ProviderError {
  readonly code = 'BankAnswerInvalid';

  constructor(
    message: string,
    /** Where the answer breaks the specification (paths and rules, never values). */
    readonly problems: string[],
  ) {
    super(message);
  }
}

/**
 * No read now: the bank answered 429, or the reads it allows without the user (PSD2
 * `frequencyPerDay`) are spent. The sync reports `ConnectionRateLimited` and tries again at `retryAt`.
 */
export class RateLimitedError extends ProviderError {
  readonly code = 'RateLimited';

  constructor(
    message: string,
    /** Epoch milliseconds from which a read may succeed again. */
    readonly retryAt: number,
    readonly source: 'bank' | 'budget',
  ) {
    super(message);
  }
}

/**
 * The user's consent at the bank no longer allows reads: it expired, the user revoked it at the
 * bank, or the bank no longer knows it. Only a new login helps: the sync reports
 * `ConnectionUpdateRequired` (and `ConsentNeedsUpdate`) and stops resyncing the consent.
 */
export class ConnectionExpiredError extends ProviderError {
  readonly code = 'ConnectionExpired';

  constructor(
    message: string,
    readonly reason: 'Expired' | 'Revoked' | 'Invalid',
  ) {
    super(message);
  }
}

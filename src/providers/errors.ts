/**
 * What a provider throws when it is called wrongly: programming or data errors, never a user's
 * mistake at the bank (those are `failed` login steps). Each class has a `code` from one closed
 * union, so `switch (error.code)` narrows, as jose does.
 */
export type ProviderErrorCode =
  | 'ConnectionMismatch'
  | 'MalformedConnection'
  | 'UnknownAccount'
  | 'InvalidDateRange'
  | 'InvalidLoginState';

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

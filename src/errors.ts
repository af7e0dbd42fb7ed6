/**
 * Protocol errors: one class per RFC 6749 / 6750 error code, each mapping to one HTTP answer.
 * `description` is public (`error_description`); `detail` goes to the log only.
 * As in node-oidc-provider, an error may only be sent to a redirect URI once that URI was
 * validated: `allowRedirect` is false for the errors that mean it was not.
 */
export abstract class OAuthError extends Error {
  abstract readonly error: OAuthErrorCode;
  abstract readonly status: number;
  /** False when the client or its redirect URI are not trusted: show a page, never redirect. */
  readonly allowRedirect: boolean = true;

  constructor(
    readonly description: string,
    readonly detail?: string,
  ) {
    super(description);
    this.name = new.target.name;
  }
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'invalid_redirect_uri'
  | 'slow_down';

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
  readonly status = 400;
}

/** RFC 6749 §5.2: 401 with `WWW-Authenticate` when the client tried HTTP authentication. */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client';
  readonly status = 401;
  override readonly allowRedirect = false;
}

export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
  readonly status = 400;
}

export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client';
  readonly status = 400;
}

export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
  readonly status = 400;
}

export class UnsupportedResponseType extends OAuthError {
  readonly error = 'unsupported_response_type';
  readonly status = 400;
}

export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope';
  readonly status = 400;
}

export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
  readonly status = 400;
}

export class ServerError extends OAuthError {
  readonly error = 'server_error';
  readonly status = 500;
}

export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  readonly status = 503;
}

/** The redirect URI is unknown or malformed: never redirect to it (RFC 6749 §4.1.2.1). */
export class InvalidRedirectUri extends OAuthError {
  readonly error = 'invalid_redirect_uri';
  readonly status = 400;
  override readonly allowRedirect = false;
}

/** The client id is unknown at the authorization endpoint: never redirect. */
export class UnknownClient extends OAuthError {
  readonly error = 'invalid_client';
  readonly status = 400;
  override readonly allowRedirect = false;
}

/** RFC 6750 §3.1: bearer token missing, expired, revoked or malformed → 401. */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token';
  readonly status = 401;
}

/**
 * RFC 6750 §3.1: a request to a bearer-protected resource with no bearer token at all (no
 * Authorization header, or another scheme): the challenge then names no error, as the client may
 * simply not have known that a token was needed. The body says what is missing all the same.
 */
export class BearerTokenMissing extends InvalidToken {}

export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope';
  readonly status = 403;
}

export class UnsupportedTokenType extends OAuthError {
  readonly error = 'unsupported_token_type';
  readonly status = 400;
}

export class SlowDown extends OAuthError {
  readonly error = 'slow_down';
  readonly status = 429;
}

/** A resource that does not exist for this caller (data API ids are 404 so they cannot be probed). */
export class NotFound extends Error {
  readonly status = 404;
  constructor(readonly description = 'Not found') {
    super(description);
    this.name = 'NotFound';
  }
}

// @ferry/client/client: the API client alone. It needs only fetch and WebCrypto, so it runs in
// Node 20+, Deno, Bun, edge workers and browsers (verifyWebhook, in the package root, needs node:crypto).
export {
  FerryClient,
  type AccessToken,
  type ConnectScope,
  type ConnectUrl,
  type ConnectUrlOptions,
  type FerryClientOptions,
  type TransactionQuery,
} from './ferry-client.js';
export { parseCallback, type CallbackInput, type CallbackResult, type ParseCallbackOptions } from './callback.js';
export {
  FerryError,
  FerryOAuthError,
  FerryBearerError,
  FerryApiError,
  FerryAuthorizationError,
  FerryNetworkError,
  isFerryError,
  parseChallenge,
  type AuthChallenge,
  type ClientErrorCode,
  type FerryErrorCode,
  type FerryErrorKind,
  type ServerErrorCode,
} from './errors.js';
export { basicAuthorization, type FetchLike } from './http.js';
export { createPkce, type Pkce } from './pkce.js';
export { TokenSession, DEFAULT_REFRESH_BEFORE_SECONDS, type AccessTokenProvider, type FerryTokens, type TokenSessionOptions } from './token-session.js';
export { TransactionPages } from './transaction-pages.js';
export type {
  Account,
  Consent,
  Money,
  Provider,
  TokenResponse,
  Transaction,
  TransactionPage,
  TransactionQueryBody,
  UpdateResult,
  WebhookDelivery,
  WebhookDeliveryFilter,
} from './types.js';
export type { components, paths } from '../generated/openapi.js';

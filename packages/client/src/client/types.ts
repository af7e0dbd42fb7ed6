import type { components, paths } from '../generated/openapi.js';

/**
 * The client's public types, every one derived from the generated OpenAPI types (never written
 * by hand): when a route's schema changes, `npm run client:generate` changes these with it, and
 * whatever in the client no longer fits stops compiling.
 */

export type HttpMethod = 'get' | 'post' | 'delete';

/** The paths of the document that have an operation for `M`. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P][M] extends undefined ? never : P;
}[keyof paths];

export type Operation<P extends keyof paths, M extends HttpMethod> = Exclude<paths[P][M], undefined>;

export type PathParams<Op> = Op extends { parameters: { path: infer T } } ? T : never;
export type QueryParams<Op> = Op extends { parameters: { query?: infer T } } ? T : never;
export type JsonRequestBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The JSON of an operation's 2xx answer (Ferry's answer 200, or 202 for queued work). */
export type SuccessBody<Op> = Op extends { responses: infer R }
  ? R extends { 200: { content: { 'application/json': infer B } } }
    ? B
    : R extends { 202: { content: { 'application/json': infer B } } }
      ? B
      : never
  : never;

type Get<P extends PathsWith<'get'>> = SuccessBody<Operation<P, 'get'>>;
type Post<P extends PathsWith<'post'>> = SuccessBody<Operation<P, 'post'>>;

export type Money = components['schemas']['Money'];
export type Account = components['schemas']['Account'];
export type Transaction = components['schemas']['Transaction'];
export type WebhookDelivery = components['schemas']['WebhookDelivery'];

/** One page of transactions: keep paging with `pagingToken` until it is null. */
export type TransactionPage = Get<'/v1/accounts/{accountId}/transactions'>;
/** The body of `POST /v1/accounts/{accountId}/transactions/query`. */
export type TransactionQueryBody = NonNullable<JsonRequestBody<Operation<'/v1/accounts/{accountId}/transactions/query', 'post'>>>;
export type UpdateResult = Post<'/v1/update'>;
/** What `GET /v1/consents/{consentId}` answers; after erasure, with its deletion receipt. */
export type Consent = Get<'/v1/consents/{consentId}'>;
export type Provider = Get<'/v2/providers/{providerId}'>;
export type WebhookDeliveryFilter = NonNullable<QueryParams<Operation<'/v1/webhooks/deliveries', 'get'>>>;

/** The token endpoint's answer as sent (RFC 6749 §5.1). */
export type TokenResponse = Post<'/v1/oauth/token'>;
export type TokenRequestBody = JsonRequestBody<Operation<'/v1/oauth/token', 'post'>>;
/** The connect endpoint's query parameters (aiia-api.md §1). */
export type ConnectQuery = QueryParams<Operation<'/v1/oauth/connect', 'get'>>;

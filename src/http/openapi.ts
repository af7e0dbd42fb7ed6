/**
 * What the route schemas cannot say about themselves, added to the OpenAPI document once, when
 * it is built (@fastify/swagger `transformObject`): a stable `operationId` per operation (the name
 * generated clients give the call), the error body as one named schema, and the answers every
 * operation may give that no handler returns itself: `429` from the rate limits and `503` while
 * the database is unreachable (src/http/error-handler.ts), each with its `Retry-After`.
 */

/** Operation ids by `METHOD path`: names a client generator turns into method names, so they never change. */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /.well-known/oauth-authorization-server': 'getAuthorizationServerMetadata',
  'GET /v1/oauth/connect': 'connect',
  'POST /v1/oauth/token': 'createToken',
  'POST /v1/oauth/revoke': 'revokeToken',
  'GET /v1/providers': 'listProvidersV1',
  'GET /v2/providers': 'listProviders',
  'GET /v2/providers/{providerId}': 'getProvider',
  'GET /v1/consents/{consentId}': 'getConsent',
  'DELETE /v1/consents/{consentId}': 'revokeConsent',
  'GET /v1/webhooks/deliveries': 'listWebhookDeliveries',
  'GET /v1/webhooks/deliveries/{deliveryId}': 'getWebhookDelivery',
  'POST /v1/webhooks/deliveries/{deliveryId}/redeliver': 'redeliverWebhook',
  'POST /v1/webhooks/test': 'sendTestWebhook',
  'GET /v1/accounts': 'listAccounts',
  'GET /v1/accounts/{accountId}': 'getAccount',
  'GET /v1/accounts/{accountId}/transactions': 'listTransactions',
  'POST /v1/accounts/{accountId}/transactions/query': 'queryTransactions',
  'GET /v1/accounts/{accountId}/transactions/{transactionId}': 'getTransaction',
  'POST /v1/update': 'requestUpdate',
  'GET /v1/consent/{consentId}/all-accounts-selected': 'getAllAccountsSelected',
};

/** Operations behind a rate limit (the routes with a `rateLimitScope`): they may answer 429. */
const RATE_LIMITED = new Set(['GET /v1/oauth/connect', 'POST /v1/oauth/token', 'POST /v1/oauth/revoke']);

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Operation {
  operationId?: string;
  responses?: Record<string, unknown>;
}

type Document = { paths?: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components?: Record<string, Record<string, unknown>> };

const ERROR_SCHEMA = {
  type: 'object',
  description: 'An RFC 6749 §5.2 / RFC 6750 §3 error.',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', description: 'The error code, e.g. invalid_request, invalid_token, slow_down, temporarily_unavailable.' },
    error_description: { type: 'string', description: 'What went wrong, for the developer.' },
  },
};

const RETRY_AFTER = { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } };

const SHARED_RESPONSES = {
  TooManyRequests: {
    description: 'Rate limited (`slow_down`): retry after the seconds in `Retry-After`.',
    headers: { 'Retry-After': RETRY_AFTER },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } },
  },
  ServiceUnavailable: {
    description: 'Ferry cannot reach its database right now (`temporarily_unavailable`): retry after `Retry-After` seconds.',
    headers: { 'Retry-After': RETRY_AFTER },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } },
  },
};

/** Completes the document @fastify/swagger built from the routes (see the module comment). */
export function completeOpenApiDocument<T>(document: T): T {
  const doc = document as Document;
  doc.components ??= {};
  doc.components.schemas = { ...doc.components.schemas, OAuthError: ERROR_SCHEMA };
  doc.components.responses = { ...doc.components.responses, ...SHARED_RESPONSES };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const id = OPERATION_IDS[key];
      if (id !== undefined) operation.operationId = id;
      operation.responses ??= {};
      if (RATE_LIMITED.has(key)) operation.responses['429'] ??= { $ref: '#/components/responses/TooManyRequests' };
      operation.responses['503'] ??= { $ref: '#/components/responses/ServiceUnavailable' };
    }
  }
  return document;
}

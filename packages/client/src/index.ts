// @ferry/client: the API client (./client, runtime-neutral) and webhook verification (./webhooks, Node).
export * from './client/index.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  WEBHOOK_HEADERS,
  DEFAULT_TOLERANCE_SECONDS,
  type VerifyWebhookOptions,
  type WebhookEvent,
  type WebhookEventName,
  type WebhookEventData,
  type WebhookHeaders,
  type WebhookVerificationErrorCode,
} from './webhooks.js';

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

/**
 * When to try a webhook again: exponential at first, then spread over a day (issue #7: about ten
 * tries over a day). After try n fails, the next comes RETRY_DELAYS_MS[n − 1] later, ±20 % jitter
 * so that deliveries failed together do not retry together. Ten tries span about 22 hours.
 */
export const RETRY_DELAYS_MS: readonly number[] = [30_000, 2 * 60_000, 8 * 60_000, 30 * 60_000, 3600_000, 2 * 3600_000, 4 * 3600_000, 6 * 3600_000, 8 * 3600_000];

/** Tries in all: the first and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** A receiver's `Retry-After` is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 12 * 3600_000;

export function retryDelayMs(failedAttempt: number, random: () => number = Math.random): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(failedAttempt, 1), RETRY_DELAYS_MS.length) - 1]!;
  return Math.round(base * (0.8 + random() * 0.4));
}

/** Parses `Retry-After` (RFC 9110 §10.2.3: seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : null;
}

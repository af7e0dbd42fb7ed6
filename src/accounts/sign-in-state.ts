import type { SendRefusal, VerifyRefusal } from './identity.js';
import type { AccountMessages } from './messages.js';
import { fill } from '../flow/text.js';
import { CODE_TTL_MS } from './identity.js';

/**
 * Where a sign-in stands between requests (post → 303 → get): the address typed, whether a code
 * was sent to it, and what the last post went wrong with. The hosted flow keeps it in the flow's
 * row; the account pages in a cookie sealed with the browser's form secret.
 */
export interface SignInState {
  email: string;
  sent: boolean;
  error?: SendRefusal | VerifyRefusal | 'code_missing';
  attemptsLeft?: number;
  retryAfterSeconds?: number;
  notice?: 'resent';
}

/** What the sign-in pages say about an error, in the user's language. */
export function signInErrorText(t: AccountMessages, state: Pick<SignInState, 'error' | 'attemptsLeft' | 'retryAfterSeconds'>): string | null {
  switch (state.error) {
    case undefined:
      return null;
    case 'missing':
      return t.emailMissing;
    case 'too_long':
      return t.emailTooLong;
    case 'invalid':
      return t.emailInvalid;
    case 'mail_failed':
      return t.mailFailed;
    case 'rate_limited':
      return fill(t.rateLimited, { minutes: Math.max(1, Math.ceil((state.retryAfterSeconds ?? 60) / 60)) });
    case 'code_missing':
      return t.codeMissing;
    case 'wrong':
      return fill(t.codeWrong, { count: state.attemptsLeft ?? 1 });
    case 'expired':
      return t.codeExpired;
    case 'too_many_attempts':
      return t.codeTooMany;
  }
}

export const CODE_MINUTES = CODE_TTL_MS / 60_000;

/** Whether an error belongs on the email page (the rest are about the code). */
export function isEmailError(error: SignInState['error']): boolean {
  return error === 'missing' || error === 'too_long' || error === 'invalid';
}

/** The status of a sign-in page: 503 when the mail could not go out, 400 for the user's mistakes, else 200. */
export function signInStatus(state: SignInState | undefined, shownError: string | null): number {
  if (shownError === null) return 200;
  return state?.error === 'mail_failed' ? 503 : 400;
}

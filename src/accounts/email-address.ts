/** Why an email address was refused, for the page to say so in the user's language. */
export type EmailProblem = 'missing' | 'too_long' | 'invalid';

/** What Ferry stores and compares: trimmed and lower-cased (one account per mailbox, whatever the case typed). */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254. */
const MAX_LENGTH = 254;
// One @, something before it, a dotted domain after it, no spaces or angle brackets: what a
// mailbox needs; the code sent to it proves the rest.
const SHAPE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;

export function checkEmail(raw: unknown): { ok: true; email: string } | { ok: false; problem: EmailProblem } {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, problem: 'missing' };
  const email = normalizeEmail(raw);
  if (email.length > MAX_LENGTH) return { ok: false, problem: 'too_long' };
  if (!SHAPE.test(email) || email.includes('..')) return { ok: false, problem: 'invalid' };
  return { ok: true, email };
}

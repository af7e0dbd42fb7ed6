import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import {
  CODE_TTL_MS,
  CODES_PER_EMAIL,
  CODES_PER_IP,
  CODE_WINDOW_MS,
  createIdentityDeps,
  MAX_CODE_ATTEMPTS,
  sendSignInCode,
  verifySignInCode,
  type IdentityDeps,
} from '../../src/accounts/identity.js';
import { pruneSandboxMail, sandboxMailer, SANDBOX_MAIL_TTL_MS } from '../../src/accounts/mailer.js';
import { createUserSession, endUserSession, readUserSession, SESSION_IDLE_MS, SESSION_MAX_MS } from '../../src/accounts/sessions.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/database.js';

for (const dialect of DIALECTS) {
  describe(`Ferry accounts: sign-in codes by email and sessions [${dialect}]`, () => {
    let testDb: TestDatabase;
    let clock: ManualClock;
    let deps: IdentityDeps;

    beforeEach(async () => {
      testDb = await createTestDatabase(dialect);
      clock = new ManualClock();
      deps = await createIdentityDeps({ db: testDb.database.db, clock, mailer: sandboxMailer(testDb.database.db, clock) });
    });
    afterEach(async () => {
      await testDb.drop();
    });

    const db = () => testDb.database.db;
    /** The code in the mail just sent to `to`, as the user reads it (the mail is then taken out of the mailbox). */
    const lastCode = async (to: string) => {
      const mail = await db().selectFrom('sandbox_mail').selectAll().where('to_address', '=', to).execute();
      assert.equal(mail.length, 1, 'one mail was sent');
      await db().deleteFrom('sandbox_mail').where('to_address', '=', to).execute();
      return /\b(\d{6})\b/.exec(mail[0]!.text_body)![1]!;
    };

    it('sends a 6-digit code in the user’s language, keeps only its hash, and signs up the address on first use', async () => {
      const sent = await sendSignInCode(deps, { email: '  Ada.Lovelace@Example.ORG ', purpose: 'account', culture: 'da', ip: '198.51.100.7' });
      assert.deepEqual(sent, { ok: true, email: 'ada.lovelace@example.org', expiresAt: clock.now() + CODE_TTL_MS });
      const [mail] = await db().selectFrom('sandbox_mail').selectAll().execute();
      assert.match(mail!.text_body, /^Din kode til at logge ind på Ferry er \d{6}\n/);
      assert.equal(mail!.to_address, 'ada.lovelace@example.org');
      assert.match(mail!.subject, /^Din Ferry-kode: \d{6}$/);
      const code = await lastCode('ada.lovelace@example.org');
      const stored = JSON.stringify(await db().selectFrom('email_codes').selectAll().execute());
      assert.doesNotMatch(stored, new RegExp(code), 'the code itself is not stored');

      const verified = await verifySignInCode(deps, { email: 'ADA.lovelace@example.org', code, purpose: 'account' });
      assert.equal(verified.ok, true);
      assert.ok(verified.ok, JSON.stringify(verified));
      assert.equal(verified.created, true);
      assert.equal(verified.user.email, "ada.lovelace@example.org");
      // The same address later: the same user, not a new one.
      await sendSignInCode(deps, { email: 'ada.lovelace@example.org', purpose: 'account', culture: 'en' });
      const again = await verifySignInCode(deps, { email: 'ada.lovelace@example.org', code: await lastCode('ada.lovelace@example.org'), purpose: 'account' });
      assert.ok(again.ok && !again.created && again.user.id === verified.user.id);
      assert.equal((await db().selectFrom('users').selectAll().execute()).length, 1);
    });

    it('refuses addresses that cannot receive mail, with the reason', async () => {
      for (const [email, reason] of [
        ['', 'missing'],
        ['   ', 'missing'],
        ['no-at-sign.example.org', 'invalid'],
        ['two@@example.org', 'invalid'],
        ['name@localhost', 'invalid'],
        ['name@exa..mple.org', 'invalid'],
        [`${'a'.repeat(250)}@example.org`, 'too_long'],
      ] as const) {
        assert.deepEqual(await sendSignInCode(deps, { email, purpose: 'account', culture: 'en' }), { ok: false, reason }, email);
      }
      assert.equal((await db().selectFrom('sandbox_mail').selectAll().execute()).length, 0);
    });

    it('a code works once', async () => {
      await sendSignInCode(deps, { email: 'once@example.org', purpose: 'account', culture: 'en' });
      const code = await lastCode('once@example.org');
      assert.equal((await verifySignInCode(deps, { email: 'once@example.org', code, purpose: 'account' })).ok, true);
      assert.deepEqual(await verifySignInCode(deps, { email: 'once@example.org', code, purpose: 'account' }), { ok: false, reason: 'expired' });
    });

    it('a code expires after 10 minutes', async () => {
      await sendSignInCode(deps, { email: 'late@example.org', purpose: 'account', culture: 'en' });
      const code = await lastCode('late@example.org');
      clock.advance(CODE_TTL_MS);
      assert.deepEqual(await verifySignInCode(deps, { email: 'late@example.org', code, purpose: 'account' }), { ok: false, reason: 'expired' });
      clock.advance(-1);
      assert.equal((await verifySignInCode(deps, { email: 'late@example.org', code, purpose: 'account' })).ok, true, 'a millisecond before, it works');
    });

    it('allows 5 tries per code; after that even the right code is refused', async () => {
      await sendSignInCode(deps, { email: 'guess@example.org', purpose: 'account', culture: 'en' });
      const code = await lastCode('guess@example.org');
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 1; i < MAX_CODE_ATTEMPTS; i++) {
        assert.deepEqual(await verifySignInCode(deps, { email: 'guess@example.org', code: wrong, purpose: 'account' }), { ok: false, reason: 'wrong', attemptsLeft: MAX_CODE_ATTEMPTS - i });
      }
      assert.deepEqual(await verifySignInCode(deps, { email: 'guess@example.org', code: wrong, purpose: 'account' }), { ok: false, reason: 'too_many_attempts' });
      assert.deepEqual(await verifySignInCode(deps, { email: 'guess@example.org', code, purpose: 'account' }), { ok: false, reason: 'too_many_attempts' });
      // A new code starts over.
      await sendSignInCode(deps, { email: 'guess@example.org', purpose: 'account', culture: 'en' });
      assert.equal((await verifySignInCode(deps, { email: 'guess@example.org', code: await lastCode('guess@example.org'), purpose: 'account' })).ok, true);
    });

    it('a new code replaces the earlier one, and codes of one purpose do not sign in to another', async () => {
      await sendSignInCode(deps, { email: 'two@example.org', purpose: 'account', culture: 'en' });
      const first = await lastCode('two@example.org');
      clock.advance(1000);
      await sendSignInCode(deps, { email: 'two@example.org', purpose: 'account', culture: 'en' });
      const second = await lastCode('two@example.org');
      if (first !== second) assert.equal((await verifySignInCode(deps, { email: 'two@example.org', code: first, purpose: 'account' })).ok, false);
      assert.deepEqual(await verifySignInCode(deps, { email: 'two@example.org', code: second, purpose: 'portal' }), { ok: false, reason: 'expired' });
      assert.equal((await verifySignInCode(deps, { email: 'two@example.org', code: second, purpose: 'account' })).ok, true);
    });

    it('limits codes per address and per IP, per window', async () => {
      for (let i = 0; i < CODES_PER_EMAIL; i++) assert.equal((await sendSignInCode(deps, { email: 'busy@example.org', purpose: 'account', culture: 'en' })).ok, true);
      const refused = await sendSignInCode(deps, { email: 'busy@example.org', purpose: 'account', culture: 'en' });
      assert.deepEqual(refused, { ok: false, reason: 'rate_limited', retryAfterSeconds: CODE_WINDOW_MS / 1000 });
      assert.equal((await db().selectFrom('sandbox_mail').selectAll().execute()).length, CODES_PER_EMAIL);
      clock.advance(CODE_WINDOW_MS);
      assert.equal((await sendSignInCode(deps, { email: 'busy@example.org', purpose: 'account', culture: 'en' })).ok, true, 'a new window');

      for (let i = 0; i < CODES_PER_IP; i++) assert.equal((await sendSignInCode(deps, { email: `u${i}@example.org`, purpose: 'account', culture: 'en', ip: '203.0.113.9' })).ok, true);
      assert.equal((await sendSignInCode(deps, { email: 'one-more@example.org', purpose: 'account', culture: 'en', ip: '203.0.113.9' })).ok, false);
      assert.equal((await sendSignInCode(deps, { email: 'one-more@example.org', purpose: 'account', culture: 'en', ip: '203.0.113.10' })).ok, true, 'another IP');
      // Rate-limit keys hold no address.
      assert.doesNotMatch(JSON.stringify(await db().selectFrom('rate_limits').selectAll().execute()), /example\.org/);
    });

    it('a mail server that fails spends the code and says so, without the address', async () => {
      const failing = { ...deps, mailer: { kind: 'smtp' as const, send: async () => Promise.reject(Object.assign(new Error('550 <down@example.org> refused'), { code: 'EENVELOPE' })) } };
      const result = await sendSignInCode(failing, { email: 'down@example.org', purpose: 'account', culture: 'en' });
      assert.deepEqual(result, { ok: false, reason: 'mail_failed', mailError: 'EENVELOPE' });
      const codes = await db().selectFrom('email_codes').selectAll().where('email', '=', 'down@example.org').execute();
      assert.equal(codes.length, 1);
      assert.notEqual(codes[0]!.consumed_at, null, 'no usable code is left behind');
    });

    it('sandbox mail is pruned after a day', async () => {
      await sendSignInCode(deps, { email: 'old@example.org', purpose: 'account', culture: 'en' });
      assert.equal((await db().selectFrom('sandbox_mail').selectAll().execute()).length, 1);
      assert.equal(await pruneSandboxMail(db(), clock.now() + SANDBOX_MAIL_TTL_MS - 1), 0);
      assert.equal(await pruneSandboxMail(db(), clock.now() + SANDBOX_MAIL_TTL_MS + 1), 1);
    });

    describe('sessions', () => {
      const signUp = async (email: string) => {
        await sendSignInCode(deps, { email, purpose: 'account', culture: 'en' });
        const verified = await verifySignInCode(deps, { email, code: await lastCode(email), purpose: 'account' });
        assert.ok(verified.ok);
        return verified.user;
      };

      it('keeps only the token’s hash, reads the user back, and ends on sign-out', async () => {
        const user = await signUp('session@example.org');
        const token = await createUserSession(db(), clock, user.id, 'account');
        assert.doesNotMatch(JSON.stringify(await db().selectFrom('user_sessions').selectAll().execute()), new RegExp(token));
        const session = await readUserSession(db(), clock, token, 'account');
        assert.equal(session?.user.email, 'session@example.org');
        assert.equal(await readUserSession(db(), clock, token, 'portal'), null, 'an account session is not a portal session');
        assert.equal(await readUserSession(db(), clock, `${token}x`, 'account'), null);
        await endUserSession(db(), token);
        assert.equal(await readUserSession(db(), clock, token, 'account'), null);
      });

      it('ends after 12 hours without use, and 7 days after sign-in however often it is used', async () => {
        const user = await signUp('idle@example.org');
        const idle = await createUserSession(db(), clock, user.id, 'account');
        clock.advance(SESSION_IDLE_MS - 1);
        assert.ok(await readUserSession(db(), clock, idle, 'account'), 'used just in time: moved on');
        clock.advance(SESSION_IDLE_MS - 1);
        assert.ok(await readUserSession(db(), clock, idle, 'account'));
        clock.advance(SESSION_IDLE_MS);
        assert.equal(await readUserSession(db(), clock, idle, 'account'), null, '12 hours unused');

        const busy = await createUserSession(db(), clock, user.id, 'account');
        const started = clock.now();
        while (clock.now() < started + SESSION_MAX_MS - 3600_000) {
          clock.advance(3600_000);
          assert.ok(await readUserSession(db(), clock, busy, 'account'));
        }
        clock.set(started + SESSION_MAX_MS);
        assert.equal(await readUserSession(db(), clock, busy, 'account'), null, 'a week after sign-in');
      });
    });
  });
}

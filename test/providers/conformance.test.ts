import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BankAccount, BankProvider, BankTransaction, FetchContext, LoginContext, LoginInput, LoginState, ProviderConnection } from '../../src/providers/types.js';
import { DIALECTS } from '../helpers/database.js';
import { ConformanceError, checkProviderConformance, type ConformanceOptions } from './conformance.js';
import { PUBLIC_URL, RETURN_URL, SANDBOX_PASSWORD, sandboxDriver, sandboxFixture, type SandboxFixture } from './sandbox-fixture.js';

const options = (fixture: SandboxFixture): ConformanceOptions => ({
  driver: sandboxDriver(fixture.app),
  users: ['conformance-alice', 'conformance-bob'],
  now: fixture.clock.now(),
  publicUrl: PUBLIC_URL,
  returnUrl: RETURN_URL,
  secrets: [SANDBOX_PASSWORD],
});

for (const dialect of DIALECTS) {
  describe(`provider conformance, every registered provider (${dialect})`, () => {
    let fixture: SandboxFixture;
    before(async () => {
      fixture = await sandboxFixture(dialect);
    });
    after(async () => {
      await fixture.close();
    });

    test('the registry holds Aiia’s seven test banks and a bank for each login method', () => {
      const ids = fixture.registry.list().map((p) => p.describe().id);
      assert.deepEqual(ids.slice(0, 7), ['TestDataBank1', 'TestDataBank2', 'TestDataBank3', 'TestDataBank4', 'TestDataBank5', 'TestDataBank6', 'TestDataBank7']);
      const methods = new Set(fixture.registry.list().flatMap((p) => p.describe().loginMethods));
      assert.deepEqual([...methods].sort(), ['Decoupled', 'Password', 'PasswordAndOtp', 'Redirect']);
    });

    // One test per provider: a provider added to the registry is checked without a new line here.
    test('every provider passes the conformance suite', async (t) => {
      for (const provider of fixture.registry.list()) {
        await t.test(provider.describe().id, async () => {
          await checkProviderConformance(provider, options(fixture));
        });
      }
    });
  });
}

/** A provider with one defect, wrapping a correct one: the suite must catch each defect. */
class BrokenProvider implements BankProvider {
  constructor(
    private readonly inner: BankProvider,
    private readonly defect: Defect,
  ) {}

  describe() {
    return this.inner.describe();
  }

  async startLogin(ctx: LoginContext) {
    const step = await this.inner.startLogin(ctx);
    if (this.defect === 'state-not-json' && step.kind === 'form') return { ...step, state: { ...step.state, at: new Date(0) as unknown } };
    if (this.defect === 'english-only' && step.kind === 'form') return this.inner.startLogin({ ...ctx, culture: 'en' });
    return step;
  }

  continueLogin(state: LoginState, input: LoginInput, ctx: LoginContext) {
    const { at: _ignored, ...rest } = state;
    return this.inner.continueLogin(rest, input, ctx);
  }

  async listAccounts(connection: ProviderConnection, ctx: FetchContext): Promise<BankAccount[]> {
    if (this.defect === 'leaks-foreign-connection') connection = { ...connection, providerId: this.inner.describe().id };
    const accounts = await this.inner.listAccounts(connection, ctx);
    switch (this.defect) {
      case 'balance-off-by-one':
        return accounts.map((a) => ({ ...a, booked: a.booked && { ...a.booked, minor: a.booked.minor + 1 } }));
      case 'bad-iban':
        return accounts.map((a) => ({ ...a, iban: a.iban && `${a.iban.slice(0, -1)}${(Number(a.iban.slice(-1)) + 1) % 10}` }));
      case 'unstable-accounts':
        return accounts.map((a) => ({ ...a, id: `${a.id}-${Math.random()}` }));
      case 'shared-accounts':
        return accounts.map((a, i) => ({ ...a, id: `account-${i}` }));
      case 'float-money':
        return accounts.map((a) => ({ ...a, booked: a.booked && { ...a.booked, minor: a.booked.minor + 0.5 } }));
      default:
        return accounts;
    }
  }

  async fetchTransactions(connection: ProviderConnection, accountId: string, range: { from: string; to: string }, ctx: FetchContext): Promise<BankTransaction[]> {
    const realId = this.defect === 'shared-accounts' ? (await this.inner.listAccounts(connection, ctx))[Number(accountId.split('-')[1])]?.id ?? accountId : accountId;
    const transactions = await this.inner.fetchTransactions(connection, realId, range, ctx);
    switch (this.defect) {
      case 'duplicate-ids':
        return transactions.length > 1 ? [transactions[0]!, { ...transactions[1]!, id: transactions[0]!.id }, ...transactions.slice(2)] : transactions;
      case 'oldest-first':
        return [...transactions].reverse();
      case 'running-balance-broken':
        return transactions.map((t, i) => (i === 3 && t.balance ? { ...t, balance: { ...t.balance, minor: t.balance.minor - 100 } } : t));
      case 'out-of-range':
        return transactions.length > 0 ? [...transactions, { ...transactions.at(-1)!, id: 'old', date: '2000-01-01', balance: null, state: 'Reserved' as const }] : transactions;
      default:
        return transactions;
    }
  }
}

type Defect =
  | 'balance-off-by-one'
  | 'bad-iban'
  | 'unstable-accounts'
  | 'shared-accounts'
  | 'float-money'
  | 'duplicate-ids'
  | 'oldest-first'
  | 'running-balance-broken'
  | 'out-of-range'
  | 'leaks-foreign-connection'
  | 'state-not-json'
  | 'english-only';

/** Each defect, and the rule that must catch it. */
const DEFECTS: Record<Defect, RegExp> = {
  'balance-off-by-one': /booked balance equals the newest booked transaction/,
  'bad-iban': /IBAN check digits/,
  'unstable-accounts': /same user, same accounts/,
  'shared-accounts': /different users, different accounts/,
  'float-money': /money in integer minor units/,
  'duplicate-ids': /transaction ids are unique/,
  'oldest-first': /newest first/,
  'running-balance-broken': /running balance/,
  'out-of-range': /dates within the range/,
  'leaks-foreign-connection': /refuses another provider’s connection/,
  'state-not-json': /login state survives JSON/,
  'english-only': /forms are localised/,
};

describe('the conformance suite fails a deliberately broken provider', () => {
  let fixture: SandboxFixture;
  before(async () => {
    fixture = await sandboxFixture(DIALECTS[0] ?? 'sqlite');
  });
  after(async () => {
    await fixture.close();
  });

  for (const [defect, rule] of Object.entries(DEFECTS) as [Defect, RegExp][]) {
    test(defect, async () => {
      const broken = new BrokenProvider(fixture.registry.get('TestDataBank1')!, defect);
      await assert.rejects(checkProviderConformance(broken, options(fixture)), (error: unknown) => {
        assert.ok(error instanceof ConformanceError, `a ConformanceError, not ${String(error)}`);
        assert.match(error.rule, rule);
        return true;
      });
    });
  }

  test('and passes the same provider unbroken', async () => {
    await checkProviderConformance(fixture.registry.get('TestDataBank1')!, options(fixture));
  });
});

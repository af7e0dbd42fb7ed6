import type { BankProvider, ProviderConnection } from '../../src/providers/types.js';

/**
 * A test bank under its own id that answers like another provider (`inner`, set once the server
 * has its registry): subclasses change one behaviour (failing reads, ending consents at the bank)
 * and leave the rest real. Its connections carry the inner provider's id in `data.inner`.
 */
export abstract class WrappedBank implements BankProvider {
  inner!: BankProvider;

  constructor(
    readonly id: string,
    readonly name: string,
  ) {}

  describe() {
    return {
      id: this.id,
      name: this.name,
      countryCode: 'DK',
      currency: 'DKK',
      logoUrl: '/assets/banks/testdatabank1.svg',
      status: 'Up' as const,
      loginMethods: ['Password' as const],
      requiresSupervisedUpdate: false,
    };
  }

  /** Called before every read; throw to fail it as the bank would. */
  protected beforeRead(): void {}

  startLogin: BankProvider['startLogin'] = (ctx) => this.inner.startLogin(ctx);
  continueLogin: BankProvider['continueLogin'] = async (state, input, ctx) => {
    const step = await this.inner.continueLogin(state, input, ctx);
    return step.kind === 'done' ? { ...step, connection: { ...step.connection, providerId: this.id, data: { ...step.connection.data, inner: step.connection.providerId } } } : step;
  };
  listAccounts: BankProvider['listAccounts'] = async (connection, ctx) => {
    this.beforeRead();
    return this.inner.listAccounts(this.unwrap(connection), ctx);
  };
  fetchTransactions: BankProvider['fetchTransactions'] = async (connection, accountId, range, ctx) => {
    this.beforeRead();
    return this.inner.fetchTransactions(this.unwrap(connection), accountId, range, ctx);
  };

  protected unwrap(connection: ProviderConnection): ProviderConnection {
    return { ...connection, providerId: String(connection.data?.inner) };
  }
}

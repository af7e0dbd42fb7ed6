import type { Transaction, TransactionPage } from './types.js';

/** Fetches the page after `pagingToken` (null: the first page). */
export type PageFetcher = (pagingToken: string | null) => Promise<TransactionPage>;

/**
 * Every transaction of a listing or a query, page after page until `pagingToken` is null
 * (aiia-api.md §4). Lazy: nothing is fetched until it is iterated, and each iteration starts
 * again from the first page.
 *
 *     for await (const transaction of ferry.transactions(session, accountId)) …
 *     for await (const page of ferry.transactions(session, accountId).pages()) save(page.transactions);
 */
export class TransactionPages implements AsyncIterable<Transaction> {
  constructor(private readonly fetchPage: PageFetcher) {}

  async *pages(): AsyncGenerator<TransactionPage, void, undefined> {
    const seen = new Set<string>();
    let pagingToken: string | null = null;
    do {
      const page: TransactionPage = await this.fetchPage(pagingToken);
      yield page;
      // A server that hands back a token it gave before would page forever.
      if (page.pagingToken !== null && seen.has(page.pagingToken)) throw new Error('The server repeated a pagingToken; stopping instead of looping.');
      if (page.pagingToken !== null) seen.add(page.pagingToken);
      pagingToken = page.pagingToken;
    } while (pagingToken !== null);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Transaction, void, undefined> {
    for await (const page of this.pages()) yield* page.transactions;
  }

  /** All of them in one array (mind the size: an account may hold two years of history). */
  async toArray(): Promise<Transaction[]> {
    const all: Transaction[] = [];
    for await (const page of this.pages()) all.push(...page.transactions);
    return all;
  }
}

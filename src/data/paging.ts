import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidRequest } from '../errors.js';

/**
 * Paging tokens: the keyset position (date, ordinal, id) of the last transaction on the page, bound
 * to the account and the query it came from, and signed with a deployment secret. Opaque to the
 * client, stable while data changes (a position, not an offset), and a forged, altered or foreign
 * token is a 400, never someone else's page.
 */
export interface PagePosition {
  date: string;
  ordinal: number;
  id: string;
}

export class PagingTokens {
  constructor(private readonly secret: Buffer) {}

  encode(accountId: string, queryKey: string, position: PagePosition): string {
    const body = Buffer.from(JSON.stringify([1, position.date, position.ordinal, position.id])).toString('base64url');
    return `${body}.${this.sign(accountId, queryKey, body)}`;
  }

  decode(token: string, accountId: string, queryKey: string): PagePosition {
    const invalid = () => new InvalidRequest('pagingToken is not valid for this account and query: start again without it.');
    if (token.length > 512) throw invalid();
    const dot = token.indexOf('.');
    if (dot <= 0) throw invalid();
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(accountId, queryKey, body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    try {
      const [version, date, ordinal, id] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown[];
      if (version !== 1 || typeof date !== 'string' || typeof ordinal !== 'number' || typeof id !== 'string') throw invalid();
      return { date, ordinal, id };
    } catch {
      throw invalid();
    }
  }

  private sign(accountId: string, queryKey: string, body: string): string {
    return createHmac('sha256', this.secret).update(`${accountId}\n${queryKey}\n${body}`).digest('base64url').slice(0, 32);
  }
}

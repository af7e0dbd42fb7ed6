import { FerryOAuthError } from './errors.js';

/** Tokens as the client keeps them: plain JSON, to store as they are. */
export interface FerryTokens {
  accessToken: string;
  /** Rotates on every refresh: always keep the newest, the one before it no longer works. */
  refreshToken: string;
  /** When the access token expires, in ms since the epoch (by this machine's clock when it arrived). */
  expiresAt: number;
  tokenType: 'bearer';
  /** The redirect URI of the exchanged code; null after a refresh. */
  redirectUri: string | null;
}

/** Anything that hands out a current access token; every data call accepts one instead of a string. */
export interface AccessTokenProvider {
  getAccessToken(): Promise<string>;
}

export interface TokenSessionOptions {
  /**
   * Called with the new tokens after every refresh, before any caller gets the new access token:
   * persist them here. The old refresh token is already spent; a rejection is passed on to the
   * callers, and the session keeps the new tokens in memory.
   */
  onTokens?: (tokens: FerryTokens) => void | Promise<void>;
  /** Refresh this many seconds before the access token expires (default 60), so a request never leaves with a token that dies on the way. */
  refreshBeforeSeconds?: number;
  /** The current time in ms (tests move it). */
  now?: () => number;
}

export const DEFAULT_REFRESH_BEFORE_SECONDS = 60;

/**
 * Keeps one user's tokens and hands out a valid access token, refreshing it when it is about to
 * expire and keeping the rotated refresh token.
 *
 * Concurrent callers share one refresh. That is not an optimisation: Ferry rotates refresh tokens
 * and treats a second use of a spent one as theft, revoking the whole grant (RFC 9700 §4.14.2).
 * So keep one session per user per process, and when several processes share a user's tokens,
 * serialise their refreshes through your store (e.g. a row lock around `refresh()`).
 */
export class TokenSession implements AccessTokenProvider {
  #tokens: FerryTokens;
  #inflight: Promise<FerryTokens> | null = null;
  /** A refresh the server refused for good (the grant is gone): every later call fails the same way. */
  #dead: FerryOAuthError | null = null;
  readonly #refresher: (refreshToken: string) => Promise<FerryTokens>;
  readonly #options: TokenSessionOptions;

  constructor(refresher: (refreshToken: string) => Promise<FerryTokens>, tokens: FerryTokens, options: TokenSessionOptions = {}) {
    this.#refresher = refresher;
    this.#tokens = tokens;
    this.#options = options;
  }

  /** The newest tokens. */
  get tokens(): FerryTokens {
    return this.#tokens;
  }

  /** True when `getAccessToken()` would refresh first. */
  get needsRefresh(): boolean {
    const now = this.#options.now?.() ?? Date.now();
    return now >= this.#tokens.expiresAt - (this.#options.refreshBeforeSeconds ?? DEFAULT_REFRESH_BEFORE_SECONDS) * 1000;
  }

  async getAccessToken(): Promise<string> {
    if (this.#inflight !== null) return (await this.#inflight).accessToken;
    if (!this.needsRefresh) return this.#tokens.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Refreshes now (or joins the refresh already under way) and returns the new tokens. */
  refresh(): Promise<FerryTokens> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    this.#inflight ??= this.#rotate().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #rotate(): Promise<FerryTokens> {
    let next: FerryTokens;
    try {
      next = await this.#refresher(this.#tokens.refreshToken);
    } catch (error) {
      // invalid_grant: spent, expired or revoked (consent ended). Presenting it again cannot help.
      if (error instanceof FerryOAuthError && error.error === 'invalid_grant') this.#dead = error;
      throw error;
    }
    this.#tokens = next;
    await this.#options.onTokens?.(next);
    return next;
  }
}

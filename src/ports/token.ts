/** The app-token port: where Graph app tokens come from (src/adapters/token.ts implements it). */

export interface TokenProvider {
  /** An app token for Graph. `forceRefresh` after a 401: skip any cache. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /**
   * Optional: the token, if one is at hand right now (cached and not due for
   * refresh), else undefined. Lets the HTTP adapter skip a promise per request;
   * `getToken` stays the way to get one.
   */
  peek?(): string | undefined;
}

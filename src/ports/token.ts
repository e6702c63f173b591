/** The app-token port: where Graph app tokens come from (src/adapters/token.ts implements it). */

export interface TokenProvider {
  /** An app token for Graph. `forceRefresh` after a 401: skip any cache. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

/**
 * Recording access tokens live here, never in machine context, events,
 * snapshots or inspector output. Keyed by normalised operation id; a token is
 * handed out once, to the download, and forgotten when its operation ends.
 */
import { normalizeId } from '../graph/ids.js';

export class TokenVault {
  #tokens = new Map<string, string>();

  put(operationId: string, token: string): void {
    this.#tokens.set(normalizeId(operationId), token);
  }

  /** Take the token out: a second download of the same clip cannot reuse it. */
  take(operationId: string): string | undefined {
    const key = normalizeId(operationId);
    const token = this.#tokens.get(key);
    this.#tokens.delete(key);
    return token;
  }

  forget(operationId: string): void {
    this.#tokens.delete(normalizeId(operationId));
  }

  get size(): number {
    return this.#tokens.size;
  }

  clear(): void {
    this.#tokens.clear();
  }
}

/**
 * A TokenVault that also keeps each token (not only until the download takes
 * it) so a snapshot saved mid-download can carry it, sealed. Only used when a
 * tokenKey is configured.
 */
export class KeepingVault extends TokenVault {
  #kept = new Map<string, string>();

  override put(operationId: string, token: string): void {
    super.put(operationId, token);
    this.#kept.set(normalizeId(operationId), token);
  }

  override forget(operationId: string): void {
    super.forget(operationId);
    this.#kept.delete(normalizeId(operationId));
  }

  override clear(): void {
    super.clear();
    this.#kept.clear();
  }

  kept(operationId: string): string | undefined {
    return this.#kept.get(normalizeId(operationId));
  }

  get keptSize(): number {
    return this.#kept.size;
  }
}

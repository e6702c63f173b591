/**
 * The default SnapshotStore: a Map in this process (the port and its error
 * live in src/ports/; re-exported here for existing imports).
 */
import { SnapshotStoreError } from '../ports/errors.js';
import type { SnapshotStore } from '../ports/stores.js';

export { SnapshotStoreError, type SnapshotStoreErrorCode } from '../ports/errors.js';
export type { SnapshotStore, StoredSnapshot } from '../ports/stores.js';

export interface MemorySnapshotStore extends SnapshotStore {
  /** The stored JSON of one call (tests, inspection). */
  get(callId: string): string | undefined;
  /** Call ids stored. */
  keys(): string[];
  readonly size: number;
  /** Counters since creation. */
  readonly stats: { saves: number; deletes: number };
}

/**
 * The default store: a Map in this process. It survives a runtime being
 * stopped and a new one created (tests, hot reload), not a process restart;
 * use the Redis store for that.
 */
export function createMemorySnapshotStore(): MemorySnapshotStore {
  const map = new Map<string, string>();
  const stats = { saves: 0, deletes: 0 };
  return {
    async save(callId, json) {
      if (typeof callId !== 'string' || callId === '')
        throw new SnapshotStoreError('invalid', 'snapshot store: callId must be a non-empty string');
      if (typeof json !== 'string')
        throw new SnapshotStoreError('invalid', 'snapshot store: json must be a string');
      map.set(callId, json);
      stats.saves++;
    },
    async loadAll() {
      return [...map].map(([callId, json]) => ({ callId, json }));
    },
    async delete(callId) {
      if (map.delete(callId)) stats.deletes++;
    },
    async close() {},
    get: (callId) => map.get(callId),
    keys: () => [...map.keys()],
    get size() {
      return map.size;
    },
    stats,
  };
}

/**
 * Where the runtime keeps each call's persisted XState snapshot (its record
 * children inside), so a restarted process — or another instance — can resume
 * the call without missing its 45-minute keepAlive deadline. The store keeps
 * opaque JSON strings by call id; what goes in them is the runtime's business
 * (plain machine context, never a token in clear).
 */

export interface StoredSnapshot {
  /** Normalised call id (lower-case GUID) the snapshot was saved under. */
  callId: string;
  /** The envelope the runtime wrote (JSON text). */
  json: string;
}

export interface SnapshotStore {
  /**
   * Replace the call's snapshot. A store shared by several instances rejects
   * with `SnapshotStoreError` code `conflict` when another instance owns the
   * call: the runtime then stops its local copy of the call.
   */
  save(callId: string, json: string): Promise<void>;
  /**
   * The snapshots to restore. A plain store returns all of them; a shared
   * store returns the ones this instance has just taken ownership of.
   */
  loadAll(): Promise<StoredSnapshot[]>;
  /** Forget the call (it ended). Resolves also when there is nothing to delete. */
  delete(callId: string): Promise<void>;
  /** Release resources (connections); snapshots stay. */
  close?(): Promise<void>;
}

export type SnapshotStoreErrorCode = 'conflict' | 'unavailable' | 'invalid';

export class SnapshotStoreError extends Error {
  override readonly name = 'SnapshotStoreError';
  constructor(
    readonly code: SnapshotStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

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

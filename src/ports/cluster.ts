/**
 * The contract between a CallRuntime and a cluster adapter (several bot
 * instances sharing calls; see src/redis/ and docs/scale-out.md). The adapter
 * decides which instance runs each call (leases) and moves notifications to
 * it; the runtime restores, routes, drops calls when told, and does the
 * notification work the adapter must not know: reading call ids, sealing and
 * opening batches that may carry recording tokens.
 */

import type { Clock } from './clock.js';
import type { LogEntry } from './log.js';
import type { ParsedNotification } from './notification.js';
import type { RecordingTokenKey } from './recording-token-key.js';
import type { SnapshotStore, StoredSnapshot } from './stores.js';

/** @deprecated The one log entry type is `LogEntry`; this alias goes in the next minor version. */
export type ClusterLogEntry = LogEntry;

/** What a runtime offers the cluster adapter it was given. */
export interface ClusterNode {
  readonly clock: Clock;
  log(entry: LogEntry): void;
  /**
   * Restore a call from its stored snapshot (this instance now owns it), then
   * route `pending`, the notifications that waited for it. Resolves false
   * when the snapshot could not be restored (logged). A call already running
   * here only gets `pending`.
   */
  adopt(stored: StoredSnapshot, pending?: ParsedNotification[]): Promise<boolean>;
  /** Route notifications of calls running here; returns the ones of calls not running here. */
  deliver(items: ParsedNotification[]): ParsedNotification[];
  /** Stop the local copy of a call another instance owns now; the stored snapshot stays. */
  drop(callId: string): void;
  /** Normalised ids of the calls running here. */
  running(): string[];
  /** The normalised id of the call a notification is about, if it names one. */
  callIdOf(item: ParsedNotification): string | undefined;
  /** Notifications of one call as text for another instance, sealed (they may carry a recording token). */
  pack(callId: string, items: ParsedNotification[]): string;
  /** What `pack` made, opened and parsed again; throws when it was not sealed for this call or is unreadable. */
  unpack(callId: string, packed: string): ParsedNotification[];
}

export interface ClusterAdapter {
  /** Seals recording tokens in snapshots and in notifications passed between instances. */
  readonly recordingTokenKey?: RecordingTokenKey;
  /** @deprecated Renamed `recordingTokenKey` (read when that is absent); goes in the next minor version. */
  readonly tokenKey?: RecordingTokenKey;
  /** Snapshot store that saves only while this instance owns the call (else rejects with `conflict`). */
  readonly snapshots: SnapshotStore;
  /** Called once by createCallRuntime: lease renewal and takeover run on `node.clock` from here on. */
  attach(node: ClusterNode): void;
  /** Notifications that reached this instance for calls it does not run: to the owner, or take the call over. */
  forward(items: ParsedNotification[]): Promise<void>;
  /** Take over the calls whose owner is gone (the adapter also does this on the clock); resolves with their ids. */
  claimOrphans(): Promise<string[]>;
  /** Graceful stop: release this instance's leases (snapshots stay) so other instances adopt its calls at once. */
  stop(): Promise<void>;
}

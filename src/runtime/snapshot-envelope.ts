/**
 * What a SnapshotStore holds for one call: the envelope around the call
 * machine's persisted XState snapshot (format, call id, save time, sealed
 * recording tokens), how it is checked when read back, and the small readers
 * of a persisted snapshot the saving and restoring code share.
 */
import { normalizeId } from '../graph/ids.js';
import type { StoredSnapshot } from '../ports/stores.js';
import { migrateV1 } from './snapshot-migrate.js';

/**
 * 2: the whole-call machine (keepAlive states under `established`, `terminating`
 * for `hangingUp`, setup and media fields in context). Format 1 is migrated when read.
 */
export const SNAPSHOT_FORMAT = 2;

/** What a store holds for one call (JSON). */
export interface SnapshotEnvelope {
  format: typeof SNAPSHOT_FORMAT;
  callId: string;
  savedAt: number;
  /** `actor.getPersistedSnapshot()` of the call machine. */
  snapshot: PersistedActor;
  /** Recording access tokens of records still downloading, sealed with the tokenKey (AES-256-GCM). */
  tokens?: string;
}

export interface PersistedChild {
  src: unknown;
  snapshot: PersistedActor;
  syncSnapshot?: boolean;
  systemId?: string;
}

export interface PersistedActor {
  status: string;
  value?: unknown;
  context?: Record<string, unknown>;
  children?: Record<string, PersistedChild>;
  input?: unknown;
  [key: string]: unknown;
}

export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';
  constructor(
    readonly code: 'invalidSnapshot' | 'unsupportedFormat' | 'tokensUnreadable',
    message: string,
    readonly callId?: string,
  ) {
    super(message);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `holdingClip` sub-state of a record's value, if any. */
export function clipState(value: unknown): string | undefined {
  if (!isObject(value) || !('holdingClip' in value)) return undefined;
  const inner = value.holdingClip;
  return typeof inner === 'string' ? inner : isObject(inner) ? Object.keys(inner)[0] : undefined;
}

/** Record children of a persisted call that are still running. */
export function liveRecords(snapshot: PersistedActor): PersistedActor[] {
  return Object.values(snapshot.children ?? {})
    .filter((c) => c.src === 'recordMachine' && c.snapshot.status === 'active')
    .map((c) => c.snapshot);
}

/** Parse and check a stored envelope; throws PersistenceError. */
export function parseEnvelope(stored: StoredSnapshot): SnapshotEnvelope {
  let env: unknown;
  try {
    env = JSON.parse(stored.json);
  } catch {
    throw new PersistenceError('invalidSnapshot', `snapshot of ${stored.callId} is not JSON`, stored.callId);
  }
  if (!isObject(env))
    throw new PersistenceError(
      'invalidSnapshot',
      `snapshot of ${stored.callId} is not an object`,
      stored.callId,
    );
  // Format 1 (keepAlive states at the top level) is read as format 2 once it passed the checks below.
  const v1 = env.format === 1;
  if (v1) env.format = SNAPSHOT_FORMAT;
  if (env.format !== SNAPSHOT_FORMAT)
    throw new PersistenceError(
      'unsupportedFormat',
      `snapshot of ${stored.callId} has format ${String(env.format)}; this version reads ${SNAPSHOT_FORMAT}`,
      stored.callId,
    );
  const snap = env.snapshot;
  if (
    typeof env.callId !== 'string' ||
    normalizeId(env.callId) !== normalizeId(stored.callId) ||
    !isObject(snap) ||
    typeof snap.status !== 'string' ||
    !isObject(snap.context) ||
    snap.context.callId === undefined
  )
    throw new PersistenceError(
      'invalidSnapshot',
      `snapshot of ${stored.callId} is not a call machine snapshot`,
      stored.callId,
    );
  if (v1) env.snapshot = migrateV1(snap as PersistedActor);
  return env as unknown as SnapshotEnvelope;
}

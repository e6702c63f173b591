/**
 * Persistence of calls: the runtime saves each call's persisted XState
 * snapshot (record children inside) on every state change, and restores it
 * after a restart or on another instance.
 *
 * Saving: changes within one synchronous burst (one event and everything it
 * triggers) become one write; writes of one call never overlap and always
 * carry the latest snapshot; a failed write is retried on the clock. Writes
 * are tracked on the clock, so simulated time waits for the store.
 *
 *
 * What a store holds: snapshot-envelope.ts; what is fixed in a snapshot
 * before it is restored: resume-surgery.ts.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { Clock } from '../ports/clock.js';
import { SnapshotStoreError } from '../ports/errors.js';
import { parseRecordingTokenKey, type RecordingTokenKey } from '../ports/recording-token-key.js';
import type { SnapshotStore, StoredSnapshot } from '../ports/stores.js';
import type { ReportSink } from './report.js';
import { prepareResume, type ResumePlan } from './resume-surgery.js';
import { seal, unseal } from './seal.js';
import {
  clipState,
  liveRecords,
  type PersistedActor,
  parseEnvelope,
  SNAPSHOT_FORMAT,
  type SnapshotEnvelope,
} from './snapshot-envelope.js';
import { KeepingVault, TokenVault } from './vault.js';
import { WriteQueues, type WriteSlot } from './write-queue.js';

export {
  INTERRUPTED_SRC,
  maxRecordNumber,
  prepareResume,
  type ResumeAction,
  type ResumeNote,
  type ResumePlan,
  renameRecords,
  withResumeSupport,
} from './resume-surgery.js';
export {
  type PersistedActor,
  type PersistedChild,
  PersistenceError,
  parseEnvelope,
  SNAPSHOT_FORMAT,
  type SnapshotEnvelope,
} from './snapshot-envelope.js';
export { KeepingVault } from './vault.js';

export interface PersistenceOptions {
  snapshots: SnapshotStore;
  clock: Clock;
  recordingTokenKey?: RecordingTokenKey | undefined;
  /** The running call actor by normalised id (undefined once it is gone). */
  actorOf: (key: string) => AnyActorRef | undefined;
  /** Another instance owns the call: stop the local copy, keep the stored snapshot. */
  onConflict: (key: string) => void;
  log: ReportSink;
  /** First retry wait after a failed write (doubles up to 30 s; default 1 s). */
  retryMs?: number;
}

export interface Persistence {
  readonly vault: TokenVault;
  /** A call or record of `key` changed state: save soon (coalesced). */
  changed(key: string): void;
  /** The call reached its final state: delete its snapshot (after any write in flight). */
  ended(key: string, operationIds?: string[]): void;
  /** Forget a call without touching the store (it moved to another instance). */
  forget(key: string): void;
  /** Check and prepare a stored call for restoring; throws PersistenceError. */
  plan(stored: StoredSnapshot): ResumePlan;
  /** Wait for every queued write and delete. */
  flush(): Promise<void>;
  /** No more writes (queued ones still finish; flush() waits for them). */
  close(): void;
  readonly stats: { writes: number; writeErrors: number; deletes: number; conflicts: number; bytes: number };
}

export function createPersistence(options: PersistenceOptions): Persistence {
  const { snapshots, clock, log } = options;
  const sealingKey =
    options.recordingTokenKey === undefined ? undefined : parseRecordingTokenKey(options.recordingTokenKey);
  const vault = sealingKey ? new KeepingVault() : new TokenVault();
  const keeping = vault instanceof KeepingVault ? vault : undefined;
  const retryMs = options.retryMs ?? 1_000;
  const queues = new WriteQueues(clock);
  const opsByCall = new Map<string, Set<string>>();
  const stats = { writes: 0, writeErrors: 0, deletes: 0, conflicts: 0, bytes: 0 };
  let closed = false;

  function envelope(k: string, actor: AnyActorRef): string | undefined {
    const snapshot = actor.getPersistedSnapshot() as PersistedActor;
    if (snapshot.status !== 'active') return undefined;
    const callId = String((snapshot.context as { callId?: unknown } | undefined)?.callId ?? k);
    const env: SnapshotEnvelope = { format: SNAPSHOT_FORMAT, callId, savedAt: clock.now(), snapshot };
    if (keeping && sealingKey) {
      const tokens: Record<string, string> = {};
      let ops = opsByCall.get(k);
      for (const rec of liveRecords(snapshot)) {
        const op = rec.context?.operationId;
        if (typeof op !== 'string' || !op) continue;
        if (!ops) {
          ops = new Set();
          opsByCall.set(k, ops);
        }
        ops.add(op);
        // Only a download still needs its token; once it ran the token is of no use.
        const token = keeping.kept(op);
        if (token !== undefined && clipState(rec.value) === 'downloading') tokens[normalizeId(op)] = token;
      }
      if (Object.keys(tokens).length)
        env.tokens = seal(sealingKey, JSON.stringify(tokens), normalizeId(callId));
    }
    return JSON.stringify(env);
  }

  async function write(k: string, s: WriteSlot): Promise<void> {
    s.queued = false;
    if (s.ended) return;
    const actor = options.actorOf(k);
    if (!actor) return;
    let json: string | undefined;
    try {
      json = envelope(k, actor);
    } catch (err) {
      stats.writeErrors++;
      log({
        level: 'error',
        msg: 'snapshot could not be serialised',
        callId: k,
        error: (err as Error)?.message,
      });
      return;
    }
    if (json === undefined) return;
    try {
      await snapshots.save(k, json);
      stats.writes++;
      stats.bytes += json.length;
      s.failures = 0;
    } catch (err) {
      if (err instanceof SnapshotStoreError && err.code === 'conflict') {
        stats.conflicts++;
        s.ended = true;
        log({ level: 'warn', msg: 'call is owned by another instance; local copy stopped', callId: k });
        options.onConflict(k);
        return;
      }
      stats.writeErrors++;
      s.failures++;
      const wait = Math.min(30_000, retryMs * 2 ** Math.min(5, s.failures - 1));
      log({
        level: 'warn',
        msg: 'snapshot write failed; retrying',
        callId: k,
        retryInMs: wait,
        error: (err as Error)?.message,
      });
      if (!closed && s.retry === undefined)
        s.retry = clock.setTimeout(() => {
          s.retry = undefined;
          changed(k);
        }, wait);
    }
  }

  function changed(k: string): void {
    if (closed) return;
    const s = queues.slotOf(k);
    if (s.queued || s.ended) return;
    s.queued = true;
    // The microtask lets the rest of this synchronous burst of transitions land first.
    queues.enqueue(k, s, () => Promise.resolve().then(() => write(k, s)));
  }

  function clearRetry(s: WriteSlot) {
    if (s.retry !== undefined) clock.clearTimeout(s.retry);
    s.retry = undefined;
  }

  function forgetTokens(k: string, operationIds: string[] = []) {
    for (const op of [...operationIds, ...(opsByCall.get(k) ?? [])]) vault.forget(op);
    opsByCall.delete(k);
  }

  return {
    vault,
    changed,
    ended(k, operationIds) {
      const s = queues.slotOf(k);
      s.ended = true;
      s.queued = false;
      clearRetry(s);
      forgetTokens(k, operationIds);
      queues.enqueue(k, s, async () => {
        try {
          await snapshots.delete(k);
          stats.deletes++;
        } catch (err) {
          stats.writeErrors++;
          log({ level: 'error', msg: 'snapshot delete failed', callId: k, error: (err as Error)?.message });
        }
      });
    },
    forget(k) {
      // Retire the slot: should the call come back here (claimed again), it starts a fresh one.
      const s = queues.retire(k);
      if (s) {
        s.ended = true;
        s.queued = false;
        clearRetry(s);
      }
      forgetTokens(k);
    },
    plan(stored) {
      const env = parseEnvelope(stored);
      const tokens = new Map<string, string>();
      if (env.tokens !== undefined && sealingKey) {
        try {
          const obj = JSON.parse(unseal(sealingKey, env.tokens, normalizeId(env.callId))) as Record<
            string,
            unknown
          >;
          for (const [op, token] of Object.entries(obj)) if (typeof token === 'string') tokens.set(op, token);
        } catch (err) {
          // Wrong key after a rotation, tampering, a format this version cannot read: the records
          // that needed them fail cleanly. The SealError message names which (it holds no secret).
          log({
            level: 'warn',
            msg: 'sealed recording tokens could not be opened',
            callId: env.callId,
            error: (err as Error)?.message,
          });
        }
      }
      const prepared = prepareResume(env, clock.now(), (op) => tokens.has(normalizeId(op)));
      return { ...prepared, tokens };
    },
    flush: () => queues.flush(),
    close() {
      closed = true;
      for (const s of queues.slots()) {
        clearRetry(s);
      }
    },
    stats,
  };
}

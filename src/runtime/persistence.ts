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
 * Restoring: XState keeps no timers in a persisted snapshot and re-starts the
 * invoked actors it holds. The machines keep deadlines in context and RESUME
 * re-arms every wait from them; what re-starting would get wrong is fixed in
 * the snapshot before it is restored (`prepareResume`):
 * - keepAliveDue: the in-flight keepAlive is dropped; RESUME sends a fresh one.
 * - record `requesting`: the POST is NOT sent again (a second POST could
 *   record twice): the record fails as `requestFailed` with error code
 *   `resumedWhileRequesting`. Should Graph have accepted the first POST, its
 *   completion finds no record and the clip is never downloaded.
 * - record `downloading` (completed, not yet downloaded): any partial clip is
 *   deleted, then the download runs again when the recordingAccessToken can
 *   be recovered (sealed in the snapshot with the user's `tokenKey`);
 *   otherwise the record ends `downloadFailed`, code `tokenUnavailable`.
 * - record `processing` (downloaded, not yet deleted): the clip is deleted,
 *   not handed to a handler again: outcome `processingFailed`, code
 *   `resumedWhileProcessing`.
 * - record `deleting`: the delete runs again (it is idempotent).
 */
import { type AnyActorRef, fromPromise } from 'xstate';
import { type Clock, trackWork } from '../adapters/clock.js';
import { type SnapshotStore, SnapshotStoreError, type StoredSnapshot } from '../adapters/snapshot-store.js';
import { normalizeId } from '../graph/ids.js';
import { parseSealKey, type SealKey, seal, unseal } from './seal.js';
import { TokenVault } from './vault.js';

export const SNAPSHOT_FORMAT = 1;

/** The actor src name of the stand-in that fails an interrupted invoke on restore. */
export const INTERRUPTED_SRC = 'resumeInterrupted';

export type ResumeAction =
  | 'keepAliveResent'
  | 'requestNotResent'
  | 'downloadRestarted'
  | 'tokenUnavailable'
  | 'processingInterrupted';

export interface ResumeNote {
  recordId?: string;
  action: ResumeAction;
}

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

/** A stored call, checked and made safe to restore. */
export interface ResumePlan {
  /** Normalised call id. */
  key: string;
  callId: string;
  savedAt: number;
  snapshot: PersistedActor;
  /** Tokens recovered from the snapshot, by operation id. */
  tokens: Map<string, string>;
  /** Store keys to delete before the call starts again (partial downloads). */
  deleteFirst: string[];
  /** Record ids of the records that go on running. */
  liveRecords: string[];
  notes: ResumeNote[];
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

const interrupted = fromPromise<never, { error: Record<string, unknown> }>(async ({ input }) => {
  throw input.error;
});

interface ProvidableMachine {
  implementations: { actors: Record<string, unknown> };
  provide(implementations: { actors: Record<string, unknown> }): unknown;
}

/**
 * The call machine as the runtime provided it, plus the stand-in actor that
 * `prepareResume` puts in place of an invoke that must not run again.
 */
export function withResumeSupport<M>(machine: M): M {
  const m = machine as unknown as ProvidableMachine;
  const record = m.implementations.actors.recordMachine as ProvidableMachine | undefined;
  if (!record) throw new TypeError('withResumeSupport: the machine has no recordMachine actor');
  return m.provide({
    actors: { recordMachine: record.provide({ actors: { [INTERRUPTED_SRC]: interrupted } }) },
  }) as M;
}

function interruptedChild(at: number, code: string, message: string): PersistedChild {
  return {
    src: INTERRUPTED_SRC,
    syncSnapshot: false,
    snapshot: {
      status: 'active',
      output: undefined,
      error: undefined,
      input: { error: { kind: 'interrupted', code, message, at } },
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `holdingClip` sub-state of a record's value, if any. */
function clipState(value: unknown): string | undefined {
  if (!isObject(value) || !('holdingClip' in value)) return undefined;
  const inner = value.holdingClip;
  return typeof inner === 'string' ? inner : isObject(inner) ? Object.keys(inner)[0] : undefined;
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
  return env as unknown as SnapshotEnvelope;
}

/**
 * Make a persisted call snapshot safe to restore (see the module comment).
 * Pure apart from reading `hasToken`; returns a modified copy.
 */
export function prepareResume(
  env: SnapshotEnvelope,
  at: number,
  hasToken: (operationId: string) => boolean,
): Omit<ResumePlan, 'tokens'> {
  const snapshot = structuredClone(env.snapshot);
  const notes: ResumeNote[] = [];
  const deleteFirst: string[] = [];
  const liveRecords: string[] = [];
  const children = snapshot.children ?? {};
  snapshot.children = children;
  const value: unknown = snapshot.value;
  const keepAliveDue =
    value === 'keepAliveDue' ||
    (!!value && typeof value === 'object' && Object.values(value).includes('keepAliveDue'));
  if (keepAliveDue && children.keepAlive) {
    delete children.keepAlive;
    notes.push({ action: 'keepAliveResent' });
  }
  for (const [id, child] of Object.entries(children)) {
    if (child.src !== 'recordMachine' || child.snapshot.status !== 'active') continue;
    const rec = child.snapshot;
    const ctx = rec.context ?? {};
    const kids = rec.children ?? {};
    rec.children = kids;
    liveRecords.push(id);
    const clip = clipState(rec.value);
    if (rec.value === 'requesting') {
      kids.startRecord = interruptedChild(
        at,
        'resumedWhileRequesting',
        'the process stopped while POST record was in flight; it is not sent again (a second POST could record twice)',
      );
      notes.push({ recordId: id, action: 'requestNotResent' });
    } else if (clip === 'downloading') {
      if (typeof ctx.storeKey === 'string') deleteFirst.push(ctx.storeKey);
      const op = typeof ctx.operationId === 'string' ? ctx.operationId : '';
      if (op && hasToken(op)) notes.push({ recordId: id, action: 'downloadRestarted' });
      else {
        kids.downloadRecording = interruptedChild(
          at,
          'tokenUnavailable',
          'the process stopped during the download and the recordingAccessToken could not be recovered (configure tokenKey to keep it sealed in snapshots)',
        );
        notes.push({ recordId: id, action: 'tokenUnavailable' });
      }
    } else if (clip === 'processing') {
      kids.processClip = interruptedChild(
        at,
        'resumedWhileProcessing',
        'the process stopped while the clip handler ran; the clip is deleted, not handed over again',
      );
      notes.push({ recordId: id, action: 'processingInterrupted' });
    }
  }
  const key = normalizeId(env.callId);
  return { key, callId: env.callId, savedAt: env.savedAt, snapshot, deleteFirst, liveRecords, notes };
}

/** Record children of a persisted call that are still running. */
function liveRecords(snapshot: PersistedActor): PersistedActor[] {
  return Object.values(snapshot.children ?? {})
    .filter((c) => c.src === 'recordMachine' && c.snapshot.status === 'active')
    .map((c) => c.snapshot);
}

export interface PersistenceOptions {
  snapshots: SnapshotStore;
  clock: Clock;
  tokenKey?: SealKey | undefined;
  /** The running call actor by normalised id (undefined once it is gone). */
  actorOf: (key: string) => AnyActorRef | undefined;
  /** Another instance owns the call: stop the local copy, keep the stored snapshot. */
  onConflict: (key: string) => void;
  log: (entry: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; [k: string]: unknown }) => void;
  /** First retry wait after a failed write (doubles up to 30 s; default 1 s). */
  retryMs?: number;
}

interface Slot {
  tail: Promise<void>;
  queued: boolean;
  ended: boolean;
  failures: number;
  retry: unknown;
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
  const key = options.tokenKey === undefined ? undefined : parseSealKey(options.tokenKey);
  const vault = key ? new KeepingVault() : new TokenVault();
  const keeping = vault instanceof KeepingVault ? vault : undefined;
  const retryMs = options.retryMs ?? 1_000;
  const slots = new Map<string, Slot>();
  const opsByCall = new Map<string, Set<string>>();
  const stats = { writes: 0, writeErrors: 0, deletes: 0, conflicts: 0, bytes: 0 };
  let closed = false;

  // Work still running for a call whose slot was retired (handed over): a new slot waits for it.
  const retired = new Map<string, Promise<void>>();
  const slotOf = (k: string): Slot => {
    let s = slots.get(k);
    if (!s) {
      const tail = retired.get(k) ?? Promise.resolve();
      s = { tail, queued: false, ended: false, failures: 0, retry: undefined };
      slots.set(k, s);
    }
    return s;
  };

  function enqueue(k: string, s: Slot, op: () => Promise<void>) {
    const p = s.tail.then(op);
    s.tail = p;
    void trackWork(clock, p).then(() => {
      if (s.tail === p && !s.queued && s.retry === undefined && slots.get(k) === s) slots.delete(k);
    });
  }

  function envelope(k: string, actor: AnyActorRef): string | undefined {
    const snapshot = actor.getPersistedSnapshot() as PersistedActor;
    if (snapshot.status !== 'active') return undefined;
    const callId = String((snapshot.context as { callId?: unknown } | undefined)?.callId ?? k);
    const env: SnapshotEnvelope = { format: SNAPSHOT_FORMAT, callId, savedAt: clock.now(), snapshot };
    if (keeping && key) {
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
      if (Object.keys(tokens).length) env.tokens = seal(key, JSON.stringify(tokens), normalizeId(callId));
    }
    return JSON.stringify(env);
  }

  async function write(k: string, s: Slot): Promise<void> {
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
    const s = slotOf(k);
    if (s.queued || s.ended) return;
    s.queued = true;
    // The microtask lets the rest of this synchronous burst of transitions land first.
    enqueue(k, s, () => Promise.resolve().then(() => write(k, s)));
  }

  function clearRetry(s: Slot) {
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
      const s = slotOf(k);
      s.ended = true;
      s.queued = false;
      clearRetry(s);
      forgetTokens(k, operationIds);
      enqueue(k, s, async () => {
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
      const s = slots.get(k);
      if (s) {
        s.ended = true;
        s.queued = false;
        clearRetry(s);
        // Retire the slot: should the call come back here (claimed again), it starts a fresh one.
        slots.delete(k);
        const tail = s.tail;
        retired.set(k, tail);
        void tail.then(() => {
          if (retired.get(k) === tail) retired.delete(k);
        });
      }
      forgetTokens(k);
    },
    plan(stored) {
      const env = parseEnvelope(stored);
      const tokens = new Map<string, string>();
      if (env.tokens !== undefined && key) {
        try {
          const obj = JSON.parse(unseal(key, env.tokens, normalizeId(env.callId))) as Record<string, unknown>;
          for (const [op, token] of Object.entries(obj)) if (typeof token === 'string') tokens.set(op, token);
        } catch {
          // Wrong key after a rotation, or tampering: the records that needed them fail cleanly.
          log({ level: 'warn', msg: 'sealed recording tokens could not be opened', callId: env.callId });
        }
      }
      const prepared = prepareResume(env, clock.now(), (op) => tokens.has(normalizeId(op)));
      return { ...prepared, tokens };
    },
    async flush() {
      for (;;) {
        const seen = new Map([...slots.values()].map((s) => [s, s.tail] as const));
        await Promise.all(seen.values());
        if ([...slots.values()].every((s) => seen.get(s) === s.tail && !s.queued)) return;
      }
    },
    close() {
      closed = true;
      for (const s of slots.values()) {
        clearRetry(s);
      }
    },
    stats,
  };
}

/** Highest `n` among the plan's `rec-<n>` record ids (0 when none). */
export function maxRecordNumber(plan: Pick<ResumePlan, 'snapshot'>): number {
  const ids = [
    ...Object.keys((plan.snapshot.context?.records as Record<string, unknown> | undefined) ?? {}),
    ...Object.keys(plan.snapshot.children ?? {}),
  ];
  let max = 0;
  for (const id of ids) {
    const m = /^rec-(\d+)$/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/**
 * Give the plan's live records new ids (the runtime's own sequence, so a
 * resumed record never shares an id with one the runtime started itself).
 * Their storeKey and operationId stay. Returns old id -> new id.
 */
export function renameRecords(plan: ResumePlan, rename: (oldId: string) => string): Map<string, string> {
  const map = new Map<string, string>();
  const snap = plan.snapshot;
  const children = snap.children ?? {};
  const records = (snap.context?.records as Record<string, unknown> | undefined) ?? {};
  for (const old of plan.liveRecords) {
    const child = children[old];
    if (!child) continue;
    const id = rename(old);
    map.set(old, id);
    delete children[old];
    children[id] = child;
    if (child.snapshot.context) child.snapshot.context.recordId = id;
    if (Object.hasOwn(records, old)) {
      records[id] = records[old];
      delete records[old];
    }
  }
  plan.liveRecords = plan.liveRecords.map((id) => map.get(id) ?? id);
  for (const n of plan.notes) if (n.recordId) n.recordId = map.get(n.recordId) ?? n.recordId;
  return map;
}

/**
 * Restoring a call from its snapshot: XState keeps no timers in a persisted
 * snapshot and re-starts the invoked actors it holds. The machines keep
 * deadlines in context and RESUME re-arms every wait from them; what
 * re-starting would get wrong is fixed in the snapshot before it is restored
 * (`prepareResume`):
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
import { fromPromise } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import {
  clipState,
  type PersistedActor,
  type PersistedChild,
  type SnapshotEnvelope,
} from './snapshot-envelope.js';

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
  // keepAliveDue sits inside `established` since the machines own the whole call.
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

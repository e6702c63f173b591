/**
 * Format 1 -> 2: what the keepAlive-only call machine saved, read as the
 * whole-call machine. Its states move under `established` (`hangingUp` is
 * now `terminating`), and the new context fields get the values the machine
 * gives a call started `established` at the old `startedAt`; what the old
 * context had wins (its end and counter fields move into the `end` and `seq`
 * groups). Old record entries gain their operation id and deadline
 * from the record child's own snapshot.
 */
import { initialContext } from '../machines/call/logic.js';
import type { CallPolicy } from '../machines/index.js';

/** The parts of a persisted call snapshot the migration reads (snapshot-envelope.ts has the full type). */
interface Snap {
  value?: unknown;
  context?: Record<string, unknown>;
  children?: Record<string, { snapshot: { context?: Record<string, unknown> } }>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

const KEEPALIVE_STATES = new Set(['active', 'keepAliveDue', 'retryWait']);

function migrateValue(value: unknown): unknown {
  if (typeof value === 'string') {
    if (KEEPALIVE_STATES.has(value)) return { established: value };
    if (value === 'hangingUp') return 'terminating';
    return value;
  }
  if (isObject(value)) {
    const [key, inner] = Object.entries(value)[0] ?? [];
    if (key && KEEPALIVE_STATES.has(key)) return { established: { [key]: inner } };
    if (key === 'hangingUp') return 'terminating';
  }
  return value;
}

function migrateRecords(snapshot: Snap, old: unknown): Record<string, unknown> {
  const records: Record<string, unknown> = {};
  if (!isObject(old)) return records;
  for (const [id, entry] of Object.entries(old)) {
    if (!isObject(entry)) continue;
    const child = snapshot.children?.[id]?.snapshot.context ?? {};
    records[id] = {
      operationId: typeof child.operationId === 'string' ? child.operationId : null,
      operationOver: entry.done === true,
      completionDeadlineAt: typeof child.completionDeadlineAt === 'number' ? child.completionDeadlineAt : 0,
      ...entry,
    };
  }
  return records;
}

/** Format-1 fields that format 2 keeps in a group: old name -> [group, new name]. */
const REGROUPED: Record<string, [group: 'end' | 'seq', field: string]> = {
  endReason: ['end', 'reason'],
  endedAt: ['end', 'endedAt'],
  terminationInfo: ['end', 'resultInfo'],
  recordSeq: ['seq', 'record'],
  cancelSeq: ['seq', 'cancel'],
};

/** The format-1 call snapshot as format 2 would hold it. */
export function migrateV1<T extends Snap>(snapshot: T): T {
  const old = snapshot.context ?? {};
  const startedAt = typeof old.startedAt === 'number' ? old.startedAt : 0;
  const defaults = initialContext({
    callId: String(old.callId),
    at: startedAt,
    start: 'established',
    ...(isObject(old.policy) ? { policy: old.policy as Partial<CallPolicy> } : {}),
  });
  const top: Record<string, unknown> = {};
  const end: Record<string, unknown> = { ...defaults.end };
  const seq: Record<string, unknown> = { ...defaults.seq };
  for (const [key, v] of Object.entries(old)) {
    const moved = REGROUPED[key];
    if (!moved) top[key] = v;
    else if (v !== undefined) (moved[0] === 'end' ? end : seq)[moved[1]] = v;
  }
  return {
    ...snapshot,
    value: migrateValue(snapshot.value),
    context: { ...defaults, ...top, end, seq, records: migrateRecords(snapshot, old.records) },
  };
}

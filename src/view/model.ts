/**
 * What the live view shows, folded from the runtime's streams: a row per call (state, time in
 * state, next keepAlive, 45-minute deadline, records, end) and the last Graph requests. Plain
 * JSON of chosen fields only, so no token, recordingAccessToken or URL query reaches the page.
 * Rows changed since the last frame sit in a dirty set: a frame carries only those, serialised
 * once for every browser.
 */
import type { HttpAttemptEvent } from '../adapters/http.js';
import { redact } from '../graph/errors.js';
import { normalizeId, parseResourceUrl } from '../graph/ids.js';
import type { RecordOutput, ResultInfoJson } from '../machines/index.js';
import type { RuntimeEvent, StateChange } from '../runtime.js';
import { type ErrorRow, errorRow, isRecord, num, resultInfoRow, safePath, stepOf } from './rows.js';

export { type ErrorRow, safePath, stepOf } from './rows.js';

/** The record steps the page names (the record machine's states, nested ones lifted). */
export type RecordStep =
  | 'requesting'
  | 'recording'
  | 'completed'
  | 'downloading'
  | 'downloaded'
  | 'processing'
  | 'deleting'
  | 'deleted'
  | 'failed';

export interface RecordRow {
  id: string;
  step: RecordStep | string;
  since: number;
  bytes?: number;
  outcome?: string;
  completionReason?: string;
  resultInfo?: ResultInfoJson;
}

export interface CallRow {
  /** The id as the runtime compares it (lower case, no dashes): what `removed` lists. */
  key: string;
  id: string;
  state: string;
  /** Runtime-clock time the call entered `state`. */
  since: number;
  startedAt?: number;
  nextKeepAliveAt?: number;
  deadlineAt?: number;
  /** When the pending keepAlive retry goes out (retryWait only). */
  retryAt?: number | null;
  keepAlives?: number;
  failures?: number;
  lastError?: ErrorRow | null;
  records: RecordRow[];
  ended?: { reason: string; at: number; resultInfo?: ResultInfoJson | null; error?: ErrorRow | null };
}

export interface RequestRow {
  seq: number;
  at: number;
  method: string;
  /** Path only: origin and query removed. */
  path: string;
  callId?: string;
  status?: number;
  error?: string;
  attempt?: number;
  /** The adapter's wait, or the call machine's (null: no retry fits before the deadline). */
  retryInMs?: number | null;
  durationMs?: number;
}

export interface ModelLimits {
  /** How long (runtime clock) an ended call stays listed (default 10 min). */
  keepEndedMs: number;
  /** Ended calls listed at most (oldest go first; default 200). */
  maxEnded: number;
  /** Records listed per call (latest kept; default 20). */
  maxRecordsPerCall: number;
  /** Graph requests listed (default 50). */
  maxRequests: number;
}

export const DEFAULT_MODEL_LIMITS: ModelLimits = {
  keepEndedMs: 10 * 60_000,
  maxEnded: 200,
  maxRecordsPerCall: 20,
  maxRequests: 50,
};

/** What the model reads from a live call actor: its context, when the runtime still holds it. */
export type ContextOf = (callId: string) => Record<string, unknown> | undefined;

export function createViewModel(opts: {
  now: () => number;
  contextOf: ContextOf;
  limits?: Partial<ModelLimits>;
}) {
  const limits = { ...DEFAULT_MODEL_LIMITS, ...opts.limits };
  const calls = new Map<string, CallRow>();
  /** Rows by the id as first sent (the runtime repeats it): no normalising per event. */
  const byId = new Map<string, CallRow>();
  /** Keys of ended rows: all that prune() needs to look at, each frame. */
  const endedKeys = new Set<string>();
  const dirty = new Set<string>();
  /** Rows whose keepAlive fields are read from the actor at the next frame, once, not per event. */
  const stale = new Set<string>();
  const removed = new Set<string>();
  const requests: RequestRow[] = [];
  let newRequests: RequestRow[] = [];
  let requestSeq = 0;
  let listeners: Array<() => void> = [];
  const changed = () => {
    for (const l of listeners) l();
  };

  function row(callId: string, at: number): CallRow {
    let r = byId.get(callId);
    if (!r) {
      const key = normalizeId(callId);
      r = calls.get(key);
      if (!r) {
        r = { key, id: callId, state: 'active', since: at, records: [] };
        calls.set(key, r);
        byId.set(callId, r);
        removed.delete(key);
      }
    }
    dirty.add(r.key);
    return r;
  }

  /** Fill the keepAlive fields from the live actor's context (plain JSON the machine keeps). */
  function refresh(r: CallRow) {
    const c = opts.contextOf(r.id);
    if (!c) return;
    r.startedAt = num(c.startedAt) ?? r.startedAt;
    r.nextKeepAliveAt = num(c.nextKeepAliveAt) ?? r.nextKeepAliveAt;
    r.deadlineAt = num(c.deadlineAt) ?? r.deadlineAt;
    r.retryAt = num(c.retryAt) ?? null;
    r.keepAlives = num(c.keepAlivesSent) ?? r.keepAlives;
    r.failures = num(c.failures) ?? r.failures;
    r.lastError = errorRow(c.lastError);
    const end = isRecord(c.end) ? c.end : {};
    if (typeof end.reason === 'string') {
      r.ended = {
        reason: end.reason,
        at: num(end.endedAt) ?? opts.now(),
        resultInfo: resultInfoRow(end.resultInfo),
        // notFound is Graph's 404 by definition (the machine keeps no error for it); lastError may be older.
        error: end.reason === 'notFound' ? { status: 404 } : errorRow(c.lastError),
      };
      endedKeys.add(r.key);
    }
  }

  function recordRow(r: CallRow, recordId: string, at: number): RecordRow {
    let rec = r.records.find((x) => x.id === recordId);
    if (!rec) {
      rec = { id: recordId, step: 'requesting', since: at };
      r.records.push(rec);
      if (r.records.length > limits.maxRecordsPerCall) r.records.shift();
    }
    return rec;
  }

  function onState(s: StateChange) {
    const r = row(s.callId, s.at);
    if (s.machine === 'call') {
      const state = typeof s.value === 'string' ? s.value : stepOf(s.value);
      if (state !== r.state) {
        r.state = state;
        r.since = s.at;
      }
      // An ending call leaves the runtime soon after: read its end now.
      if (state === 'draining' || state === 'ended') refresh(r);
      else stale.add(r.key);
    } else {
      const rec = recordRow(r, s.actor, s.at);
      const step = stepOf(s.value);
      if (step !== rec.step) {
        rec.step = step;
        rec.since = s.at;
      }
    }
    changed();
  }

  function onEvent(e: RuntimeEvent) {
    const r = row(e.callId, e.at);
    switch (e.type) {
      case 'record.downloaded':
        recordRow(r, String(e.recordId), e.at).bytes = num(e.bytes);
        break;
      case 'record.completed':
        if (typeof e.completionReason === 'string')
          recordRow(r, String(e.recordId), e.at).completionReason = e.completionReason;
        break;
      case 'record.failed':
        recordRow(r, String(e.recordId), e.at).outcome = String(e.outcome);
        break;
      case 'call.recordDone': {
        const out = e.output as RecordOutput | undefined;
        const rec = recordRow(r, String(e.recordId), e.at);
        if (out) {
          rec.outcome = out.outcome;
          rec.bytes = num(out.bytes) ?? rec.bytes;
          if (out.completionReason) rec.completionReason = out.completionReason;
          const info = resultInfoRow(out.resultInfo);
          if (info) rec.resultInfo = info;
        } else if (e.error) rec.outcome = 'crashed';
        break;
      }
      case 'call.ended':
        refresh(r);
        r.ended ??= { reason: String(e.reason), at: e.at };
        endedKeys.add(r.key);
        break;
      case 'keepAlive.failed':
        noteRetry(e);
        stale.add(r.key);
        break;
      case 'keepAlive.sent':
        stale.add(r.key);
        break;
    }
    changed();
  }

  function pushRequest(req: Omit<RequestRow, 'seq'>) {
    const entry = req as RequestRow;
    entry.seq = ++requestSeq;
    requests.push(entry);
    newRequests.push(entry);
    if (requests.length > limits.maxRequests) requests.shift();
    if (newRequests.length > limits.maxRequests) newRequests.shift();
    changed();
  }

  /** `at`: when the attempt was reported (the intake folds it later), by default now. */
  function onAttempt(a: HttpAttemptEvent, at = opts.now()) {
    const path = safePath(a.url);
    // Built field by field: one object per request, not one per optional field.
    const req: Omit<RequestRow, 'seq'> = { at, method: a.method, path, attempt: a.attempt };
    const callId = parseResourceUrl(path)?.callId;
    if (callId) req.callId = callId;
    if (a.status !== undefined) req.status = a.status;
    if (a.error !== undefined) req.error = redact(a.error).slice(0, 120);
    if (a.retryInMs !== undefined) req.retryInMs = a.retryInMs;
    req.durationMs = a.durationMs;
    pushRequest(req);
  }

  /**
   * The call machine, not the adapter, retries keepAlive: its wait belongs on
   * the failed attempt already listed (sent again; the page replaces it by seq).
   */
  function noteRetry(e: RuntimeEvent) {
    const key = normalizeId(e.callId);
    for (let i = requests.length - 1; i >= 0; i--) {
      const req = requests[i] as RequestRow;
      if (!req.callId || normalizeId(req.callId) !== key || !req.path.endsWith('/keepAlive')) continue;
      if (req.retryInMs === undefined && req.status === e.status) {
        req.retryInMs = num(e.retryInMs) ?? null;
        if (!newRequests.includes(req)) newRequests.push(req);
      }
      return;
    }
  }

  /** Without an HTTP feed, the keepAlive outcomes the machine reports stand in for requests. */
  function onEventAsRequest(e: RuntimeEvent) {
    if (e.type !== 'keepAlive.sent' && e.type !== 'keepAlive.failed') return;
    const failed = e.type === 'keepAlive.failed';
    pushRequest({
      at: e.at,
      method: 'POST',
      path: `/communications/calls/${e.callId}/keepAlive`,
      callId: e.callId,
      ...(failed ? (num(e.status) !== undefined ? { status: e.status as number } : {}) : { status: 200 }),
      ...(failed ? { retryInMs: num(e.retryInMs) ?? null } : {}),
    });
  }

  /** Drop ended calls past `keepEndedMs`, then the oldest beyond `maxEnded`. */
  function prune(now: number) {
    const ended: Array<[string, CallRow]> = [];
    for (const key of endedKeys) {
      const r = calls.get(key);
      if (!r?.ended) continue;
      if (now - r.ended.at > limits.keepEndedMs) forget(key);
      else ended.push([key, r]);
    }
    if (ended.length > limits.maxEnded) {
      ended.sort((a, b) => (a[1].ended?.at ?? 0) - (b[1].ended?.at ?? 0));
      for (const [key] of ended.slice(0, ended.length - limits.maxEnded)) forget(key);
    }
  }

  function freshen() {
    for (const key of stale) {
      const r = calls.get(key);
      if (r) refresh(r);
    }
    stale.clear();
  }

  function forget(key: string) {
    byId.delete(calls.get(key)?.id ?? '');
    endedKeys.delete(key);
    calls.delete(key);
    dirty.delete(key);
    removed.add(key);
  }

  return {
    onState,
    onEvent,
    onAttempt,
    onEventAsRequest,
    /** Called after every change (the server coalesces them into frames). */
    onChange(fn: () => void): () => void {
      listeners.push(fn);
      return () => {
        listeners = listeners.filter((l) => l !== fn);
      };
    },
    get size() {
      return calls.size;
    },
    /** Everything, for a browser that connects (or catches up after dropped frames). */
    snapshot(now: number) {
      freshen();
      prune(now);
      return { type: 'snapshot' as const, now, calls: [...calls.values()], requests: [...requests] };
    },
    /** What changed since the last delta; undefined when nothing did. */
    delta(now: number) {
      freshen();
      prune(now);
      if (!dirty.size && !removed.size && !newRequests.length) return undefined;
      const out = {
        type: 'delta' as const,
        now,
        calls: [...dirty].map((k) => calls.get(k)).filter((r): r is CallRow => !!r),
        removed: [...removed],
        requests: newRequests,
      };
      dirty.clear();
      removed.clear();
      newRequests = [];
      return out;
    },
  };
}
export type ViewModel = ReturnType<typeof createViewModel>;
export type SnapshotFrame = ReturnType<ViewModel['snapshot']>;
export type DeltaFrame = NonNullable<ReturnType<ViewModel['delta']>>;

/**
 * The call machine's decisions as pure functions of plain JSON: retry waits
 * inside the 45-minute rule, where an operation notification belongs, the
 * serial record queue, tone order, and how an end notification is read.
 */
import { isEndedByBot, isKeepAliveTimeout, isNotAnswered, isUnreachable } from '../graph-answers.js';
import { isTerminalStatus, type NotificationEvent, type OperationNotice } from '../notification.js';
import { completionWindowMs, resolveCallPolicy, resolveRecordPolicy } from '../policy.js';
import { type ErrorJson, normalizeOpId, type ResultInfoJson } from '../types.js';
import type {
  CallContext,
  CallEndReason,
  CallInput,
  ChildEntry,
  PromptRequest,
  RecordRequest,
} from './types.js';

/** Deterministic jitter in [0.5, 1): spreads retries of many calls without Math.random in a pure machine. */
function jitter(callId: string, n: number): number {
  let h = 2166136261;
  for (const ch of `${callId}:${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return 0.5 + ((h >>> 0) % 1000) / 2000;
}

/**
 * Wait before the next keepAlive attempt after `failures` consecutive failures:
 * Retry-After when given, else exponential backoff (retryBaseMs doubling up
 * to retryMaxMs) times a deterministic jitter. Clamped so the retry goes out
 * no later than `deadlineAt - finalRetryMarginMs` (losing the call is worse
 * than retrying before Retry-After); null when that moment has passed.
 */
export function retryDelay(
  ctx: Pick<CallContext, 'callId' | 'policy' | 'deadlineAt'>,
  failures: number,
  err: ErrorJson,
  at: number,
): number | null {
  const p = ctx.policy;
  const wanted =
    typeof err.retryAfterMs === 'number' && Number.isFinite(err.retryAfterMs) && err.retryAfterMs >= 0
      ? err.retryAfterMs
      : Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.min(30, Math.max(0, failures - 1))) *
        jitter(ctx.callId, failures);
  const latest = ctx.deadlineAt - p.finalRetryMarginMs - at;
  if (latest <= 0) return null;
  return Math.round(Math.min(wanted, latest));
}

/**
 * What every call starts with. Shared and frozen: the machine's assigns replace
 * these objects and never edit them, so a call holds its own copy only once it
 * has one (about 0.2 KB less per idle call).
 */
const NO_END: CallContext['end'] = Object.freeze({
  pendingReason: null,
  reason: null,
  endedAt: null,
  resultInfo: null,
});
const FIRST_SEQ: CallContext['seq'] = Object.freeze({ record: 0, prompt: 0, cancel: 0, lastTone: -1 });
const NO_RECORDS: CallContext['records'] = Object.freeze({});
const NO_PROMPTS: CallContext['prompts'] = Object.freeze({});

export function initialContext(input: CallInput): CallContext {
  const policy = resolveCallPolicy(input.policy);
  const start = input.start ?? 'established';
  const decision = input.offer?.policyBasedRecording
    ? policy.recordingDecisionTimeoutMs
    : policy.decisionTimeoutMs;
  return {
    callId: input.callId,
    start,
    policy,
    startedAt: input.at,
    at: input.at,
    setup: {
      offer: start === 'incoming' ? (input.offer ?? {}) : null,
      place: start === 'outgoing' ? (input.place ?? { targets: [] }) : null,
      decideBy: start === 'incoming' ? input.at + decision : null,
      establishBy: null,
      establishedAt: start === 'established' ? input.at : null,
      establishedEarly: false,
    },
    lastSuccessAt: input.at,
    deadlineAt: input.at + policy.keepAliveDeadlineMs,
    nextKeepAliveAt: input.at + policy.keepAliveIntervalMs,
    keepAlivesSent: 0,
    failures: 0,
    retryDelayMs: 0,
    retryAt: null,
    lastError: null,
    end: NO_END,
    seq: FIRST_SEQ,
    records: NO_RECORDS,
    prompts: NO_PROMPTS,
  };
}

/** Entering `established`: the keepAlive rule's first 45-minute window starts now. */
export function establish(ctx: CallContext, at: number): Partial<CallContext> {
  const t = Math.max(ctx.at, at);
  return {
    at: t,
    setup: ctx.setup.establishedAt === null ? { ...ctx.setup, establishedAt: t } : ctx.setup,
    lastSuccessAt: t,
    deadlineAt: t + ctx.policy.keepAliveDeadlineMs,
    nextKeepAliveAt: t + ctx.policy.keepAliveIntervalMs,
    failures: 0,
    retryAt: null,
  };
}

const live = (entries: Record<string, ChildEntry>) => Object.values(entries).filter((e) => !e.done);

/** Graph's rule: a clientContext names one running operation of the call. */
export function clientContextTaken(ctx: CallContext, clientContext: string): boolean {
  return [...live(ctx.records), ...live(ctx.prompts)].some((e) => e.clientContext === clientContext);
}

/** Why a RECORD cannot spawn in a live state, or null when it can. */
export function recordProblem(
  ctx: CallContext,
  ev: RecordRequest,
): { reason: 'duplicateRecordId' | 'duplicateClientContext' | 'invalidPolicy'; message: string } | null {
  if (ev.recordId !== undefined && Object.hasOwn(ctx.records, ev.recordId))
    return { reason: 'duplicateRecordId', message: `record ${ev.recordId} already exists on this call` };
  if (clientContextTaken(ctx, ev.clientContext))
    return {
      reason: 'duplicateClientContext',
      message: `clientContext '${ev.clientContext.slice(0, 64)}' is used by a running operation of this call`,
    };
  try {
    resolveRecordPolicy(ev.policy);
  } catch (err) {
    return { reason: 'invalidPolicy', message: err instanceof Error ? err.message : String(err) };
  }
  return null;
}

export function promptProblem(
  ctx: CallContext,
  ev: PromptRequest,
): 'duplicatePromptId' | 'duplicateClientContext' | null {
  if (ev.promptId !== undefined && Object.hasOwn(ctx.prompts, ev.promptId)) return 'duplicatePromptId';
  if (clientContextTaken(ctx, ev.clientContext)) return 'duplicateClientContext';
  return null;
}

/** The child id a request gets: its own, else the first free `<prefix>-<n>`. */
export function nextChildId(
  taken: Record<string, unknown>,
  seq: number,
  prefix: string,
  wanted: string | undefined,
): { id: string; seq: number } {
  if (wanted !== undefined) return { id: wanted, seq: seq + 1 };
  let n = seq + 1;
  while (Object.hasOwn(taken, `${prefix}-${n}`)) n++;
  return { id: `${prefix}-${n}`, seq: n };
}

/**
 * Graph runs a call's record operations one after the other: a record asked
 * for while others are still recording starts only when they end, so its
 * wait for the completion grows by the time the records ahead may still take
 * (not with barge-in, which interrupts them).
 */
export function queuedMarginMs(ctx: CallContext, ev: RecordRequest): number {
  const base = resolveRecordPolicy(ev.policy).completionMarginMs;
  if (ev.options.bargeInAllowed) return base;
  const ahead = Object.values(ctx.records)
    .filter((r) => !r.done && !r.operationOver)
    .reduce((latest, r) => Math.max(latest, r.completionDeadlineAt), ev.at);
  return base + (ahead - ev.at);
}

/** The record's own deadline as it will compute it (the next record queues behind it). */
export function recordDeadline(ev: RecordRequest, marginMs: number): number {
  const policy = resolveRecordPolicy({ ...ev.policy, completionMarginMs: marginMs });
  return ev.at + completionWindowMs(ev.options, policy);
}

/**
 * The child an operation notification belongs to: the one with its operation
 * id, else (while its POST's answer is still out) the one with its
 * clientContext. Records first for recordOperations, prompts first for
 * playPromptOperations; any other operation type tries both.
 */
export function routeOperation(
  ctx: CallContext,
  op: OperationNotice,
): { kind: 'record' | 'prompt'; id: string } | null {
  if (!isTerminalStatus(op.status)) return null;
  const opId = normalizeOpId(op.operationId);
  const find = (entries: Record<string, ChildEntry>) => {
    let byContext: string | null = null;
    for (const [id, e] of Object.entries(entries)) {
      if (e.done) continue;
      if (e.operationId && normalizeOpId(e.operationId) === opId) return id;
      if (!e.operationId && op.clientContext && e.clientContext === op.clientContext) byContext = id;
    }
    return byContext;
  };
  const order: Array<'record' | 'prompt'> =
    op.odataType === 'playPromptOperation'
      ? ['prompt']
      : op.odataType === 'recordOperation'
        ? ['record']
        : ['record', 'prompt'];
  for (const kind of order) {
    const id = find(kind === 'record' ? ctx.records : ctx.prompts);
    if (id) return { kind, id };
  }
  return null;
}

/** The operation notice of a NOTIFICATION, if it is one. */
export function operationOf(ev: NotificationEvent): OperationNotice | null {
  return ev.resource.kind === 'operation' ? ev.resource : null;
}

/** A tone newer than the last one emitted (older and repeated sequenceIds are dropped). */
export function newTone(ctx: CallContext, ev: NotificationEvent) {
  const tone = ev.resource.kind === 'call' ? ev.resource.toneInfo : null;
  return tone && tone.sequenceId > ctx.seq.lastTone ? tone : null;
}

/**
 * The reason Graph's end notification gives a call, read with its resultInfo:
 * 408/8537 is an expiry whoever noticed first; while we hang up, "ended by bot"
 * is our hang-up; before a placed call was established, 480 is unreachable and
 * 408 not answered.
 */
export function reasonFromEnd(
  ctx: CallContext,
  info: ResultInfoJson | null,
  how: { hangingUp?: boolean; placing?: boolean },
): CallEndReason {
  if (isKeepAliveTimeout(info)) return 'expired';
  if (how.hangingUp && isEndedByBot(info)) return ctx.end.pendingReason ?? 'hungUp';
  if (how.placing && isUnreachable(info)) return 'unreachable';
  if (how.placing && isNotAnswered(info)) return 'notAnswered';
  return 'terminated';
}

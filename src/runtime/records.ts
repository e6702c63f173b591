/**
 * The record API of the runtime: starting a record on a tracked call, and
 * what its promise resolves with once the record machine has finished.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import { DEFAULT_RECORD_POLICY, type RecordOutput, type RecordPolicy } from '../machines/index.js';
import { checkRecord, whileLogged } from '../options/runtime.js';
import { requireCall } from './calls.js';
import type { ClipHandler } from './clip.js';
import type { CallActor, HandlerEntry, RuntimeContext } from './context.js';
import { type RecordResult, RuntimeError } from './types.js';

function recordResult<T>(output: RecordOutput, handler?: HandlerEntry): RecordResult<T> {
  const out: RecordResult<T> = {
    ...output,
    ok: output.outcome === 'processed',
    localCopy: output.final === 'deleted' ? 'deleted' : 'none',
  };
  if (handler?.resultSet) out.result = handler.result as T;
  return out;
}

type Children = Record<string, AnyActorRef | undefined>;

function clientContextInUse(actor: CallActor, clientContext: string): boolean {
  return Object.values(actor.getSnapshot().children as Children).some((child) => {
    const snap = child?.getSnapshot() as
      | { status?: string; context?: { clientContext?: unknown } }
      | undefined;
    return snap?.status === 'active' && snap.context?.clientContext === clientContext;
  });
}

/**
 * Graph runs a call's record operations one after the other: a record asked
 * for while others are still recording starts only when they end, so its
 * wait for the completion starts that much later. Without barge-in, the
 * completion margin grows by the time the records ahead may still take.
 */
function queuedPolicy(
  now: number,
  actor: CallActor,
  recordOptions: RecordOptionsInput,
  policy: Partial<RecordPolicy>,
): Partial<RecordPolicy> {
  if (recordOptions.bargeInAllowed) return policy;
  let latest = now;
  for (const child of Object.values(actor.getSnapshot().children as Children)) {
    const snap = child?.getSnapshot() as
      | { status?: string; value?: unknown; context?: { completionDeadlineAt?: number } }
      | undefined;
    if (snap?.status !== 'active' || (snap.value !== 'requesting' && snap.value !== 'recording')) continue;
    const deadline = snap.context?.completionDeadlineAt;
    if (typeof deadline === 'number' && deadline > latest) latest = deadline;
  }
  if (latest === now) return policy;
  const margin = policy.completionMarginMs ?? DEFAULT_RECORD_POLICY.completionMarginMs;
  return { ...policy, completionMarginMs: margin + (latest - now) };
}

/**
 * Record a clip on a tracked call; `handler` gets the downloaded clip, which
 * is deleted right after. Resolves with the record's final output (and the
 * handler's return value) whatever happened; rejects only when the record
 * could not start: a `GraphError` (kind `invalidRequest`) for invalid
 * options, before any request; a `RuntimeError` for an unknown or ending call.
 */
export function record<T>(
  ctx: RuntimeContext,
  callId: string,
  recordOptions: RecordOptionsInput,
  handler: ClipHandler<T>,
  opts: { policy?: Partial<RecordPolicy> } = {},
): Promise<RecordResult<T>> {
  try {
    return startRecord(ctx, callId, recordOptions, handler, opts);
  } catch (err) {
    // Always a rejection, never a synchronous throw: `record(...).catch()` sees every failure.
    return Promise.reject(err);
  }
}

function startRecord<T>(
  ctx: RuntimeContext,
  callId: string,
  recordOptions: RecordOptionsInput,
  handler: ClipHandler<T>,
  opts: { policy?: Partial<RecordPolicy> },
): Promise<RecordResult<T>> {
  const { log, clock, handlers, vault, options } = ctx;
  whileLogged(log, () => checkRecord(callId, handler, opts, options.recordPolicy));
  const actor = requireCall(ctx, callId);
  // typed GraphError before anything happens
  whileLogged(log, () => ctx.graph.validateRecordOptions(recordOptions), callId);
  const recordId = `rec-${++ctx.recordSeq}`;
  const clientContext = recordOptions.clientContext ?? ctx.ids();
  // A completion that beats the POST's answer finds its record by clientContext: it must be unique.
  if (recordOptions.clientContext !== undefined && clientContextInUse(actor, clientContext))
    throw new RuntimeError(
      'recordRejected',
      `clientContext '${clientContext.slice(0, 64)}' is already used by a running record of call ${callId}`,
    );
  const storeKey = `${normalizeId(callId).slice(0, 40)}-${recordId}`;
  handlers.set(recordId, { handler: handler as ClipHandler });
  actor.send({
    type: 'RECORD',
    at: clock.now(),
    recordId,
    clientContext,
    storeKey,
    options: { ...recordOptions, clientContext },
    policy: queuedPolicy(clock.now(), actor, recordOptions, { ...options.recordPolicy, ...opts.policy }),
  });
  const child = (actor.getSnapshot().children as Children)[recordId];
  if (!child) {
    handlers.delete(recordId);
    return Promise.reject(new RuntimeError('recordRejected', `call ${callId} is ending; record not started`));
  }
  return new Promise<RecordResult<T>>((resolve) => {
    const finish = () => {
      const snap = child.getSnapshot() as {
        status: string;
        output?: RecordOutput;
        context?: { operationId?: string | null; bytes?: number | null };
        hasTag?: (tag: string) => boolean;
      };
      const entry = handlers.get(recordId);
      handlers.delete(recordId);
      const operationId = snap.output?.operationId ?? snap.context?.operationId ?? undefined;
      if (operationId) vault.forget(operationId);
      // Stopped before its end (the call's drain timeout, runtime.stop()): a record that held
      // a clip had it deleted by its guard.
      const stoppedOutput = (): RecordOutput => ({
        callId,
        recordId,
        clientContext,
        ...(operationId ? { operationId } : {}),
        ...(typeof snap.context?.bytes === 'number' ? { bytes: snap.context.bytes } : {}),
        final: snap.hasTag?.('media') ? 'deleted' : 'failed',
        outcome: 'callEnded',
        error: { kind: 'stopped', message: 'the record was stopped before it finished' },
        at: clock.now(),
      });
      const output: RecordOutput = snap.output ?? stoppedOutput();
      resolve(recordResult<T>(output, entry));
    };
    child.subscribe({ complete: finish, error: finish });
    if (child.getSnapshot().status !== 'active') finish();
  });
}

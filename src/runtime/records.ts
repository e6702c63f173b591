/**
 * The record API of the runtime: starting a record on a tracked call, and
 * what its promise resolves with once the record machine has finished.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { RecordOptionsInput } from '../graph/schemas.js';
import type { RecordOutput, RecordPolicy } from '../machines/index.js';
import { checkRecord, whileLogged } from '../options/runtime.js';
import { requireCall } from './calls.js';
import type { ClipHandler } from './clip.js';
import type { HandlerEntry, RuntimeContext } from './context.js';
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
  const storeKey = `${normalizeId(callId).slice(0, 40)}-${recordId}`;
  handlers.set(recordId, { handler: handler as ClipHandler });
  // The machine refuses a taken clientContext or an ending call, and queues the record behind
  // running ones (its completion wait grows by theirs): its refusal is the error's reason.
  let refused: string | undefined;
  const refusal = actor.on('call.recordRejected', (e) => {
    if (e.recordId === recordId && e.reason !== 'callEnding')
      refused =
        e.reason === 'duplicateClientContext'
          ? `clientContext '${clientContext.slice(0, 64)}' is already used by a running record of call ${callId}`
          : `call ${callId} refused the record (${e.reason})`;
  });
  actor.send({
    type: 'RECORD',
    at: clock.now(),
    recordId,
    clientContext,
    storeKey,
    options: { ...recordOptions, clientContext },
    policy: { ...options.recordPolicy, ...opts.policy },
  });
  refusal.unsubscribe();
  const child = (actor.getSnapshot().children as Children)[recordId];
  if (!child) {
    handlers.delete(recordId);
    return Promise.reject(
      new RuntimeError('recordRejected', refused ?? `call ${callId} is ending; record not started`),
    );
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

/** What the record machine decides from a completion or the POST's answer: pure functions of plain JSON. */
import { completionReasonFromResult, readResultInfo } from '../graph-answers.js';
import { isTerminalStatus } from '../notification.js';
import { type Completion, normalizeOpId } from '../types.js';
import type { RecordContext, RecordOutput, StartRecordOutput } from './types.js';

export const isTerminal = isTerminalStatus;

export function isSuccess(c: Completion | null | undefined): boolean {
  return !!c && c.status.toLowerCase() === 'completed' && c.hasRecording && !!c.recordingLocation;
}

/** Only the fields the machine needs: whatever else the sender attached (a token) stays out of context. */
export function sanitize(c: Completion): Completion {
  return {
    type: 'OPERATION_COMPLETED',
    at: c.at,
    operationId: c.operationId,
    clientContext: c.clientContext ?? null,
    status: c.status,
    completionReason: c.completionReason ?? null,
    resultInfo: readResultInfo(c.resultInfo),
    recordingLocation: c.recordingLocation ?? null,
    hasRecording: c.hasRecording,
  };
}

export function matches(ctx: RecordContext, c: Completion, operationId: string | null): boolean {
  if (operationId && normalizeOpId(c.operationId) === normalizeOpId(operationId)) return true;
  return !operationId && !!c.clientContext && c.clientContext === ctx.clientContext;
}

/** The completion to apply right after the POST's answer, if any. */
export function completionAfterResponse(ctx: RecordContext, out: StartRecordOutput): Completion | null {
  if (out.completion) return out.completion;
  if (isTerminal(out.status))
    // Terminal answer without its details: nothing to download, no notification follows.
    return {
      type: 'OPERATION_COMPLETED',
      at: out.at,
      operationId: out.operationId,
      status: out.status,
      hasRecording: false,
    };
  if (
    ctx.early &&
    (matches(ctx, ctx.early, out.operationId) || ctx.early.clientContext === ctx.clientContext)
  )
    return ctx.early;
  return null;
}

/** What the machine keeps of a completion; a missing completionReason is derived from resultInfo when documented. */
export function completionFields(c: Completion) {
  const resultInfo = readResultInfo(c.resultInfo);
  return {
    status: c.status,
    completionReason: c.completionReason || completionReasonFromResult(resultInfo),
    resultInfo,
    recordingLocation: c.recordingLocation ?? null,
  };
}

/** The end of the wait for a completion: its deadline, or the grace after the call ended if sooner. */
export function completionWaitEnd(ctx: RecordContext): number {
  const graceEnd =
    ctx.callEndedAt === null ? Number.POSITIVE_INFINITY : ctx.callEndedAt + ctx.policy.callEndGraceMs;
  return Math.min(ctx.completionDeadlineAt, graceEnd);
}

export function recordOutput(ctx: RecordContext): RecordOutput {
  const final = ctx.final ?? 'failed';
  const out: RecordOutput = {
    callId: ctx.callId,
    recordId: ctx.recordId,
    clientContext: ctx.clientContext,
    final,
    outcome: ctx.outcome ?? (final === 'deleted' ? 'processed' : 'operationFailed'),
    at: ctx.at,
  };
  if (ctx.operationId) out.operationId = ctx.operationId;
  if (ctx.completionReason) out.completionReason = ctx.completionReason;
  if (ctx.resultInfo) out.resultInfo = ctx.resultInfo;
  if (ctx.bytes !== null) out.bytes = ctx.bytes;
  if (ctx.error) out.error = ctx.error;
  if (ctx.summary !== undefined && ctx.summary !== null) out.summary = ctx.summary;
  return out;
}

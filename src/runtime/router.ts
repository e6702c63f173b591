/**
 * Turns parsed notifications into machine events. Call-level notifications go
 * to the call actor; operation completions go straight to the record child
 * that owns the operation (matched by operation id, or by clientContext when
 * the notification beats the POST's response). Tokens go to the vault.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { RecordOperation, ResultInfo } from '../graph/schemas.js';
import type { NotificationItemError, ParsedNotification } from '../notifications/index.js';
import type { TokenVault } from './vault.js';

export interface RouteTarget {
  actor: AnyActorRef;
}

export interface RouteResult {
  routed: number;
  unknownCall: number;
  unmatchedOperation: number;
  ignored: number;
}

interface RecordChildContext {
  operationId?: string;
  clientContext?: string;
}

function findRecordChild(call: AnyActorRef, op: RecordOperation): AnyActorRef | undefined {
  const children = call.getSnapshot().children as Record<string, AnyActorRef | undefined>;
  const opId = normalizeId(op.id);
  let byContext: AnyActorRef | undefined;
  for (const child of Object.values(children)) {
    const snap = child?.getSnapshot() as { status?: string; context?: RecordChildContext } | undefined;
    const ctx = snap?.context;
    if (!child || !ctx || snap?.status !== 'active') continue;
    if (ctx.operationId && normalizeId(ctx.operationId) === opId) return child;
    // By clientContext only while the POST's answer (with the operation id) is still out.
    if (!ctx.operationId && op.clientContext && ctx.clientContext === op.clientContext) byContext = child;
  }
  return byContext;
}

export function routeNotifications(
  items: ParsedNotification[],
  lookup: (normalizedCallId: string) => AnyActorRef | undefined,
  vault: TokenVault,
  at: number,
): RouteResult {
  const result: RouteResult = { routed: 0, unknownCall: 0, unmatchedOperation: 0, ignored: 0 };
  for (const item of items) {
    const callId = item.ref?.callId;
    const call = callId ? lookup(normalizeId(callId)) : undefined;
    if (!call) {
      result.unknownCall++;
      continue;
    }
    for (const res of item.resources) {
      if (res.kind === 'recordOperation') {
        const op = res.data;
        const terminal = op.status === 'completed' || op.status === 'failed';
        if (!terminal) {
          result.ignored++;
          continue;
        }
        const child = findRecordChild(call, op);
        if (!child) {
          result.unmatchedOperation++;
          continue;
        }
        if (op.recordingAccessToken) vault.put(op.id, op.recordingAccessToken);
        child.send({
          type: 'OPERATION_COMPLETED',
          at,
          operationId: op.id,
          clientContext: op.clientContext ?? null,
          status: op.status,
          completionReason: op.completionReason ?? null,
          resultInfo: (op.resultInfo as ResultInfo | null | undefined) ?? null,
          recordingLocation: op.recordingLocation,
          hasRecording: Boolean(op.recordingLocation && op.recordingAccessToken),
        });
        result.routed++;
      } else if (res.kind === 'call' && !item.ref?.operationId && !item.ref?.sub) {
        const ended = res.data.state === 'terminated' || item.changeType === 'deleted';
        if (ended) {
          call.send({
            type: 'TERMINATED',
            at,
            resultInfo: (res.data.resultInfo as ResultInfo | null | undefined) ?? null,
          });
          result.routed++;
        } else result.ignored++;
      } else result.ignored++;
    }
    // A call deleted with no resourceData at all still means the call is over.
    if (
      item.resources.length === 0 &&
      item.changeType === 'deleted' &&
      !item.ref?.operationId &&
      !item.ref?.sub
    ) {
      call.send({ type: 'TERMINATED', at, resultInfo: null });
      result.routed++;
    }
  }
  return result;
}

/**
 * What the runtime reports for an item skipped from a batch: a log entry and
 * an `events$` event (`notification.rejected`). Ids, index and the field-level
 * reason only: the item itself (which may hold a recordingAccessToken) is not quoted.
 */
export function rejectedItemReport(err: NotificationItemError, at: number) {
  const { code, index, callId, operationId, message } = err;
  const ids = { ...(callId ? { callId } : {}), ...(operationId ? { operationId } : {}) };
  return {
    log: { level: 'warn' as const, msg: 'notification item skipped', code, index, ...ids, error: message },
    event: {
      type: 'notification.rejected',
      at,
      actor: 'runtime',
      code,
      index,
      ...ids,
      callId: callId ?? '',
      message,
    },
  };
}

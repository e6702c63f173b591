/**
 * Finds the call actor a notification is about (by normalised call id),
 * takes recordingAccessTokens into the vault, and sends the call one
 * NOTIFICATION per resource it listens to. Where an operation's completion
 * goes (which record or prompt) is the call machine's rule, not this file's:
 * the router only asks that rule (`routeOperation`) whether the call has a
 * taker, so nobody's token is kept and an idle call sees no event.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { ResourceData } from '../graph/schemas.js';
import {
  type CallContext,
  type NotificationEvent,
  readResultInfo,
  routeOperation,
} from '../machines/index.js';
import type { NotificationItemError, ParsedNotification } from '../notifications/index.js';
import type { TokenVault } from './vault.js';

export interface RouteResult {
  routed: number;
  unknownCall: number;
  /** Operation completions no record or prompt of the call claimed (their tokens are dropped). */
  unmatchedOperation: number;
  ignored: number;
}

type Resource = NotificationEvent['resource'];
type CallResource = Extract<Resource, { kind: 'call' }>;

function toneOf(raw: unknown): { sequenceId: number; tone: string } | null {
  if (!raw || typeof raw !== 'object') return null;
  const t = new Map(Object.entries(raw));
  const seq = Number(t.get('sequenceId'));
  const tone = t.get('tone');
  return Number.isSafeInteger(seq) && typeof tone === 'string' ? { sequenceId: seq, tone } : null;
}

/** What the machine gets of a resource: plain JSON, never a token. */
function resourceOf(res: ResourceData): Resource | null {
  if (res.kind === 'call')
    return {
      kind: 'call',
      state: res.data.state ?? null,
      resultInfo: readResultInfo(res.data.resultInfo),
      toneInfo: toneOf(res.data.toneInfo),
    };
  if (res.kind === 'recordOperation' || res.kind === 'commsOperation') {
    const op = res.data;
    const record = res.kind === 'recordOperation' ? res.data : null;
    return {
      kind: 'operation',
      odataType:
        record !== null
          ? 'recordOperation'
          : /playPromptOperation$/i.test(op['@odata.type'])
            ? 'playPromptOperation'
            : 'operation',
      operationId: op.id,
      clientContext: op.clientContext ?? null,
      status: op.status,
      completionReason: record?.completionReason ?? null,
      resultInfo: readResultInfo(op.resultInfo),
      recordingLocation: record?.recordingLocation ?? null,
      hasRecording: Boolean(record?.recordingLocation && record.recordingAccessToken),
    };
  }
  return null;
}

/**
 * What the call listens to: its end, a key press, and its state while it is
 * being set up (an `established` on a call that is up changes nothing).
 */
function listens(call: AnyActorRef, changeType: string, r: CallResource): boolean {
  if (changeType === 'deleted' || r.state === 'terminated' || r.toneInfo !== null) return true;
  return r.state !== null && call.getSnapshot().hasTag?.('setup') === true;
}

/** The call machine's own routing rule: does one of its records or prompts take this completion? */
function hasTaker(call: AnyActorRef, op: Extract<Resource, { kind: 'operation' }>): boolean {
  const ctx: CallContext | undefined = call.getSnapshot().context;
  return !!ctx?.records && !!ctx.prompts && routeOperation(ctx, op) !== null;
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
    const onCall = !item.ref?.operationId && !item.ref?.sub;
    const send = (resource: Resource) => {
      call.send({
        type: 'NOTIFICATION',
        at,
        changeType: item.changeType,
        resource,
      } satisfies NotificationEvent);
      result.routed++;
    };
    for (const res of item.resources) {
      const resource = resourceOf(res);
      if (!resource || (resource.kind === 'call' && !onCall)) {
        result.ignored++;
        continue;
      }
      if (resource.kind === 'call') {
        if (listens(call, item.changeType, resource)) send(resource);
        else result.ignored++;
        continue;
      }
      if (resource.status !== 'completed' && resource.status !== 'failed') {
        result.ignored++;
        continue;
      }
      if (!hasTaker(call, resource)) {
        // Nobody runs it: dropped, and its token is never kept.
        result.unmatchedOperation++;
        continue;
      }
      const token = res.kind === 'recordOperation' ? res.data.recordingAccessToken : null;
      if (token) vault.put(resource.operationId, token);
      send(resource);
    }
    // A call deleted with no resourceData at all still means the call is over.
    if (item.resources.length === 0 && item.changeType === 'deleted' && onCall)
      send({ kind: 'call', state: null, resultInfo: null, toneInfo: null });
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

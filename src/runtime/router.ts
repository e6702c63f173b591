/**
 * Finds the call actor a notification is about (by normalised call id),
 * takes recordingAccessTokens into the vault, and sends the call one
 * NOTIFICATION per resource. Where an operation's completion goes (which
 * record or prompt) is the call machine's rule, not this file's.
 */
import type { AnyActorRef } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { ResourceData } from '../graph/schemas.js';
import { type NotificationEvent, readResultInfo } from '../machines/index.js';
import type { ParsedNotification } from '../notifications/index.js';
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

function actionable(changeType: string, r: CallResource): boolean {
  return (
    changeType === 'deleted' ||
    r.toneInfo !== null ||
    (r.state !== null && ['terminated', 'establishing', 'established', 'ringing'].includes(r.state))
  );
}

/** Whether the call now routes this operation id (a record or prompt took it). */
function claimed(call: AnyActorRef, operationId: string): boolean {
  const ctx: unknown = call.getSnapshot().context;
  if (!ctx || typeof ctx !== 'object') return false;
  const wanted = normalizeId(operationId);
  const fields = new Map(Object.entries(ctx));
  return ['records', 'prompts'].some((k) => {
    const entries = fields.get(k);
    return (
      !!entries &&
      typeof entries === 'object' &&
      Object.values(entries).some((e: unknown) => {
        const id = e && typeof e === 'object' ? new Map(Object.entries(e)).get('operationId') : undefined;
        return typeof id === 'string' && normalizeId(id) === wanted;
      })
    );
  });
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
        send(resource);
        // Counted as routed when the call can act on it: an end, a state it waits for, a key press.
        if (!actionable(item.changeType, resource)) {
          result.routed--;
          result.ignored++;
        }
        continue;
      }
      if (resource.status !== 'completed' && resource.status !== 'failed') {
        result.ignored++;
        continue;
      }
      const token = res.kind === 'recordOperation' ? res.data.recordingAccessToken : null;
      if (token) vault.put(resource.operationId, token);
      send(resource);
      if (!claimed(call, resource.operationId)) {
        // Nobody took it: its token must not linger.
        if (token) vault.forget(resource.operationId);
        result.routed--;
        result.unmatchedOperation++;
      }
    }
    // A call deleted with no resourceData at all still means the call is over.
    if (item.resources.length === 0 && item.changeType === 'deleted' && onCall)
      send({ kind: 'call', state: null, resultInfo: null, toneInfo: null });
  }
  return result;
}

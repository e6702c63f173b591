/**
 * Notifications that reached an instance that does not run their call: queued
 * in Redis for the owner (sealed by the runtime: they may carry a recording
 * token) with a nudge over pub/sub and an acknowledgement back; or, with no
 * live owner, the call is claimed here. While Redis is unreachable they are
 * held here and passed on later.
 */
import type { ParsedNotification } from '../ports/notification.js';
import { adopt, deliverOrLog, drain } from './leases.js';
import { ROUTE } from './lua.js';
import { attached, type ClusterState, errorText, holdingClaims, logTo, nowOf, tracked } from './state.js';

/** Notification batches held while Redis is unreachable, at most. */
const MAX_DEFERRED = 10_000;

/** What travels on an instance's inbox channel. */
interface InboxMessage {
  t: 'nudge' | 'ack';
  id: string;
  from?: string;
  callId?: string;
}

/** Hold notifications for another instance until Redis takes them (bounded by count and pendingTtlMs). */
function defer(s: ClusterState, id: string, items: ParsedNotification[]): void {
  s.stats.deferred += items.length;
  s.deferred.push({ id, items, at: nowOf(s) });
  if (s.deferred.length > MAX_DEFERRED) {
    const gone = s.deferred.shift();
    logTo(s, { level: 'error', msg: 'too many notifications held; oldest dropped', callId: gone?.id });
  }
}

const forwardFailed = (s: ClusterState, id: string) => (err: unknown) =>
  logTo(s, { level: 'error', msg: 'forwarding a notification failed', callId: id, error: errorText(err) });

export async function passDeferred(s: ClusterState): Promise<void> {
  if (!s.deferred.length || holdingClaims(s)) return;
  const batch = s.deferred.splice(0);
  const oldest = nowOf(s) - s.pendingTtlMs;
  const live = batch.filter((d) => d.at >= oldest);
  if (live.length < batch.length)
    logTo(s, {
      level: 'error',
      msg: 'held notifications expired; dropped',
      count: batch.length - live.length,
    });
  await Promise.all(live.map((d) => forwardOne(s, d.id, d.items).catch(forwardFailed(s, d.id))));
}

/** Resolves on the owner's acknowledgement, or after ackTimeoutMs (the queue keeps the notification anyway). */
function expectAck(s: ClusterState, id: string): { done: Promise<void>; cancel(): void } {
  const { clock } = attached(s);
  let handle: unknown;
  const done = new Promise<void>((resolve) => {
    handle = clock.setTimeout(() => {
      if (s.acks.delete(id)) {
        s.stats.ackTimeouts++;
        resolve();
      }
    }, s.ackTimeoutMs);
    s.acks.set(id, () => {
      clock.clearTimeout(handle);
      s.stats.acked++;
      resolve();
    });
  });
  return {
    done,
    cancel: () => {
      clock.clearTimeout(handle);
      s.acks.delete(id);
    },
  };
}

/** A message on this instance's inbox: an ack for a forward, or a nudge to drain a call's queue. */
export function onInboxMessage(s: ClusterState, text: string): void {
  let msg: InboxMessage;
  try {
    msg = JSON.parse(text) as InboxMessage;
  } catch {
    return;
  }
  if (msg.t === 'ack') {
    const done = s.acks.get(msg.id);
    s.acks.delete(msg.id);
    done?.();
    return;
  }
  if (msg.t !== 'nudge' || typeof msg.callId !== 'string' || !s.node || s.stopped) return;
  const id = msg.callId;
  void tracked(
    s,
    (async () => {
      try {
        const wait = s.adopting.get(id);
        if (wait) await wait;
        const items = await drain(s, id);
        if (items.length) deliverOrLog(s, id, items);
      } catch (err) {
        logTo(s, {
          level: 'warn',
          msg: 'draining queued notifications failed',
          callId: id,
          error: errorText(err),
        });
      } finally {
        if (msg.from)
          await s.redis
            .publish(s.keys.inbox(msg.from), JSON.stringify({ t: 'ack', id: msg.id }))
            .catch(() => 0);
      }
    })(),
  );
}

/**
 * Run `step` after every route step of the same call started before it on this instance.
 * A claim is recorded (in `adopting`) only once ROUTE's reply is back: without the queue, a
 * second notification arriving meanwhile would find no adoption, run ROUTE as well, find
 * itself the owner and claim (and count) the call a second time.
 */
async function routeInTurn<T>(s: ClusterState, id: string, step: () => Promise<T>): Promise<T> {
  const before = s.routing.get(id) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = before.then(() => mine);
  s.routing.set(id, tail);
  await before;
  try {
    return await step();
  } finally {
    done();
    if (s.routing.get(id) === tail) s.routing.delete(id);
  }
}

const HELD = { held: true } as const;

async function forwardOne(s: ClusterState, id: string, items: ParsedNotification[]): Promise<void> {
  const { node } = attached(s);
  const { keys } = s;
  // Only the decision is serialised; waiting for the owner's ack or for the restore happens after.
  const res = await routeInTurn(s, id, async () => {
    const wait = s.adopting.get(id);
    if (wait) await wait;
    // The call may run here by now (adopted by an earlier notification or by the renewal round).
    if (!node.deliver(items).length) return undefined;
    // ROUTE would take over a call whose owner could not renew for want of Redis: hold it instead.
    if (holdingClaims(s)) return HELD;
    let r: [string, string?];
    try {
      r = (await ROUTE.run(
        s.redis,
        [keys.snapshots, keys.owners, keys.expiry, keys.pending(id)],
        [id, s.instanceId, nowOf(s), s.leaseMs, node.pack(id, items), s.pendingTtlMs],
      )) as [string, string?];
    } catch (err) {
      logTo(s, {
        level: 'warn',
        msg: 'Redis unreachable; notification held',
        callId: id,
        error: errorText(err),
      });
      return HELD;
    }
    if (r[0] !== 'claimed') return { r };
    s.stats.claimedOnNotification++;
    logTo(s, { level: 'info', msg: 'took over call on notification (no live owner)', callId: id });
    // adopt() registers in `adopting` before it returns: the next route step of this call sees it.
    return { r, adoption: adopt(s, id, r[1] as string, items) };
  });
  if (!res) return;
  if ('held' in res) return defer(s, id, items);
  if (res.adoption) {
    await res.adoption;
    return;
  }
  if (res.r[0] === 'queued') {
    s.stats.queuedForOwner++;
    const owner = res.r[1] as string;
    const ackId = `${s.instanceId}/${++s.ackSeq}`;
    const ack = expectAck(s, ackId);
    const receivers = await s.redis
      .publish(keys.inbox(owner), JSON.stringify({ t: 'nudge', id: ackId, from: s.instanceId, callId: id }))
      .catch((err: unknown) => {
        ack.cancel();
        throw err;
      });
    if (receivers > 0) {
      s.stats.forwarded++;
      await ack.done;
    } else {
      // The owner is gone: the queue waits for whoever claims the call when its lease lapses.
      ack.cancel();
      logTo(s, {
        level: 'info',
        msg: 'owner unreachable; notification queued for the next owner',
        callId: id,
        owner,
      });
    }
  } else {
    s.stats.unknownCalls++;
    logTo(s, { level: 'info', msg: 'notification for a call no instance runs; ignored', callId: id });
  }
}

/** Group by call and forward each call's notifications; one call's failure is logged, not shared. */
export async function forward(s: ClusterState, items: ParsedNotification[]): Promise<void> {
  if (s.stopped || !s.node) return;
  const { node } = s;
  const byCall = new Map<string, ParsedNotification[]>();
  for (const item of items) {
    const id = node.callIdOf(item);
    if (!id) continue;
    const list = byCall.get(id);
    if (list) list.push(item);
    else byCall.set(id, [item]);
  }
  await tracked(
    s,
    Promise.all([...byCall].map(([id, list]) => forwardOne(s, id, list).catch(forwardFailed(s, id)))),
  );
}

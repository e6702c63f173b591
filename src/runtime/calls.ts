/**
 * The calls registry: starting, restoring, finding, dropping and hanging up
 * the tracked calls (one root actor of the provided callMachine each, on the
 * runtime's clock).
 */
import { type AnyActorRef, createActor } from 'xstate';
import { normalizeId } from '../graph/ids.js';
import type { CallInput, CallOutput, CallPolicy } from '../machines/index.js';
import type { ParsedNotification } from '../notifications/index.js';
import { checkTrack, whileLogged } from '../options/runtime.js';
import type { StoredSnapshot } from '../ports/stores.js';
import type { CallActor, RuntimeContext, ToneEvent } from './context.js';
import { maxRecordNumber, type ResumePlan, renameRecords } from './persistence.js';
import type { Emitted, StreamedCall } from './streams.js';
import { RuntimeError } from './types.js';

export function requireCall(ctx: RuntimeContext, callId: string): CallActor {
  if (ctx.stopped) throw new RuntimeError('stopped', 'runtime is stopped');
  const actor = ctx.calls.get(normalizeId(callId));
  if (!actor) throw new RuntimeError('unknownCall', `call ${callId} is not tracked`);
  return actor;
}

/** `requireCall` for the promise-returning API: an unknown call is a rejection, not a throw. */
function callOrReject(ctx: RuntimeContext, callId: string): CallActor | Promise<never> {
  try {
    return requireCall(ctx, callId);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** How a new call starts: an offer (`incoming`), a call the bot places (`outgoing`); default established. */
export type CallStartInput = Pick<CallInput, 'start' | 'offer' | 'place'>;

/**
 * The registry's entry for one call: what the streams ask of it (its name, its
 * snapshots, its emits) and the observer of its end. One object per call with
 * shared methods, not a set of closures: see the README's per-call memory.
 */
class TrackedCall implements StreamedCall {
  readonly ctx: RuntimeContext;
  actor: CallActor | undefined;
  /** Registry key: normalised `name`. */
  key: string;
  name: string;
  constructor(ctx: RuntimeContext, callId: string) {
    this.ctx = ctx;
    this.name = callId;
    const key = normalizeId(callId);
    // The same string when the id is already normal: one copy per call, not two.
    this.key = key === callId ? callId : key;
  }

  changed(): void {
    this.ctx.persistence?.changed(this.key);
  }

  willEmit(event: Emitted): void {
    // A placed call is known by a local handle until Graph's 201 names it: then it is found by that id,
    // already by the listeners of this `call.placed`.
    if (event.type !== 'call.placed') return;
    const { calls, persistence } = this.ctx;
    if (calls.get(this.key) === this.actor) calls.delete(this.key);
    // A snapshot saved under the handle goes: from now on the call is saved under its id.
    persistence?.ended(this.key);
    this.name = event.callId as string;
    this.key = normalizeId(this.name);
    calls.set(this.key, this.actor as CallActor);
  }

  emitted(event: Emitted): void {
    if (event.type !== 'call.tone' || !this.actor) return;
    const { sequenceId, tone, at } = event as unknown as Omit<ToneEvent, 'callId'>;
    this.ctx.tones.next({ callId: this.actor.getSnapshot().context.callId, sequenceId, tone, at });
  }

  /**
   * The actor reached done or was stopped (runtime.stop(), handed over), heard from its own
   * inspection (see streams.ts): not an observer's `complete`, which XState would bind once more per call.
   */
  finished(): void {
    const { ctx, actor, key } = this;
    if (!actor) return;
    if (ctx.calls.get(key) === actor) ctx.calls.delete(key);
    const snap = actor.getSnapshot();
    // Stopped is not ended: the snapshot stays for whoever resumes it.
    if (snap.status === 'done') ctx.persistence?.ended(key);
    const out = snap.output as CallOutput | undefined;
    if (out) {
      ctx.ended.delete(key);
      ctx.ended.set(key, out);
      for (const k of ctx.ended.keys()) if (ctx.ended.size > ENDED_KEPT) ctx.ended.delete(k);
    }
    ctx.log({
      level: 'info',
      msg: 'call ended',
      callId: out?.callId ?? this.name,
      reason: out?.reason,
      resultInfo: out?.resultInfo,
    });
  }

  error(err: unknown): void {
    const { ctx, actor, key } = this;
    if (ctx.calls.get(key) === actor) ctx.calls.delete(key);
    ctx.persistence?.ended(key);
    ctx.log({ level: 'error', msg: 'call actor failed', callId: this.name, error: (err as Error)?.message });
    if (actor) ctx.streams.failed(this, actor);
  }
}

/** A new call, or one restored from `snapshot`. */
export function startCall(
  ctx: RuntimeContext,
  callId: string,
  policy?: Partial<CallPolicy>,
  snapshot?: unknown,
  how: CallStartInput = {},
): CallActor {
  const { clock, options } = ctx;
  const call = new TrackedCall(ctx, callId);
  // The runtime's default policy object itself when the call adds nothing: no copy per call.
  const merged = policy ? { ...options.callPolicy, ...policy } : options.callPolicy;
  const inspector = ctx.streams.inspector(call);
  // Only createActor's option lets the user's inspector hear of the call actor's creation; without one
  // the system's own `inspect` does as well for us and is cheaper: the option wraps the observer twice.
  const early = options.inspect !== undefined;
  const actor = createActor(ctx.machine, {
    clock,
    input: { callId, at: clock.now(), ...(merged ? { policy: merged } : {}), ...how },
    ...(early ? { inspect: inspector } : {}),
    ...(snapshot === undefined ? {} : { snapshot: snapshot as CallActor['_snapshot'] }),
  });
  // Attached before start(): the first snapshot and every action from then on are seen.
  if (!early) actor.system.inspect(inspector);
  call.actor = actor;
  ctx.calls.set(call.key, actor);
  // An error observer keeps XState from rethrowing the actor's error (the end itself comes through the inspector).
  actor.subscribe(call);
  actor.start();
  return actor;
}

export function track(
  ctx: RuntimeContext,
  callId: string,
  opts: { policy?: Partial<CallPolicy> } = {},
): CallActor {
  if (ctx.stopped) throw new RuntimeError('stopped', 'runtime is stopped');
  whileLogged(ctx.log, () => checkTrack(callId, opts, ctx.options.callPolicy));
  const existing = ctx.calls.get(normalizeId(callId));
  if (existing) return existing;
  const actor = startCall(ctx, callId, opts.policy);
  ctx.log({ level: 'info', msg: 'tracking call', callId });
  return actor;
}

/**
 * Restore a call from its stored snapshot (what is re-run after a restore and
 * what is not: src/runtime/resume-surgery.ts), then route `pending` via `deliver`.
 */
export async function adoptCall(
  ctx: RuntimeContext,
  stored: StoredSnapshot,
  pending: ParsedNotification[],
  deliver: (items: ParsedNotification[]) => unknown,
): Promise<boolean> {
  const { persistence, calls, log } = ctx;
  const key = normalizeId(stored.callId);
  if (!persistence || ctx.stopped) return false;
  if (!calls.has(key)) {
    let plan: ResumePlan;
    try {
      plan = persistence.plan(stored);
      // A download cut short left a partial clip: it goes before the download runs again.
      await Promise.all(plan.deleteFirst.map((k) => ctx.store.delete(k)));
    } catch (err) {
      log({ level: 'error', msg: 'call not resumed', callId: stored.callId, error: (err as Error)?.message });
      return false;
    }
    if (ctx.stopped) return false;
    if (!calls.has(key)) {
      ctx.recordSeq = Math.max(ctx.recordSeq, maxRecordNumber(plan));
      renameRecords(plan, () => `rec-${++ctx.recordSeq}`);
      for (const [op, token] of plan.tokens) ctx.vault.put(op, token);
      const actor = startCall(ctx, plan.callId, undefined, plan.snapshot);
      const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
      for (const id of plan.liveRecords) {
        if (ctx.options.onResumedClip) ctx.handlers.set(id, { handler: ctx.options.onResumedClip });
        children[id]?.subscribe({
          complete: () => ctx.handlers.delete(id),
          error: () => ctx.handlers.delete(id),
        });
      }
      actor.send({ type: 'RESUME', at: ctx.clock.now() });
      log({ level: 'info', msg: 'call resumed', callId: plan.callId, notes: plan.notes });
    }
  }
  if (pending.length) deliver(pending);
  return true;
}

/** Stop the local copy of a call another instance runs now; its stored snapshot stays. */
export function dropCall(ctx: RuntimeContext, callId: string): void {
  const key = normalizeId(callId);
  ctx.persistence?.forget(key);
  const actor = ctx.calls.get(key);
  if (!actor) return;
  ctx.calls.delete(key);
  actor.stop();
  ctx.log({ level: 'warn', msg: 'call handed over to another instance', callId });
}

/** Ended calls whose output `whenEnded` still gives. */
const ENDED_KEPT = 1000;

/** Wait for a call to end; resolves with its output (also for one of the latest ended calls). */
export function whenEnded(ctx: RuntimeContext, callId: string): Promise<CallOutput> {
  const over = ctx.calls.has(normalizeId(callId)) ? undefined : ctx.ended.get(normalizeId(callId));
  if (over) return Promise.resolve(over as CallOutput);
  const actor = callOrReject(ctx, callId);
  if (actor instanceof Promise) return actor;
  return new Promise((resolve, reject) => {
    const done = () => {
      const snap = actor.getSnapshot();
      if (snap.status === 'done') resolve(snap.output as CallOutput);
      else reject(new RuntimeError('stopped', `call ${callId} stopped before it ended`));
    };
    if (actor.getSnapshot().status !== 'active') return done();
    actor.subscribe({ complete: done, error: reject });
  });
}

/**
 * DELETE the call; resolves with its output once it has ended. Rejects with
 * `RuntimeError('hangUpFailed')` when Graph refused the DELETE (after the
 * adapter's retries): the call is then still alive and still kept alive.
 */
export function hangUp(ctx: RuntimeContext, callId: string): Promise<CallOutput> {
  const actor = callOrReject(ctx, callId);
  if (actor instanceof Promise) return actor;
  const ended = whenEnded(ctx, callId);
  return new Promise<CallOutput>((resolve, reject) => {
    const failed = actor.on('call.hangUpFailed', (e: { status?: number; code?: string }) => {
      failed.unsubscribe();
      const why = e.status ? ` (${e.status}${e.code ? ` ${e.code}` : ''})` : '';
      reject(
        new RuntimeError('hangUpFailed', `hang-up of call ${callId} failed${why}; the call is still up`),
      );
    });
    ended.then(
      (out) => {
        failed.unsubscribe();
        resolve(out);
      },
      (err: unknown) => {
        failed.unsubscribe();
        reject(err);
      },
    );
    actor.send({ type: 'HANG_UP', at: ctx.clock.now() });
  });
}

export function cancelMedia(ctx: RuntimeContext, callId: string, clientContext?: string): void {
  requireCall(ctx, callId).send({ type: 'CANCEL_MEDIA', at: ctx.clock.now(), clientContext });
}

/**
 * Runs model paths (model.ts) against the emulator with the real runtime on
 * simulated time. Each step of a path is produced from the outside, the way
 * production sees it: timers by moving the clock, Graph's answers by emulator
 * faults (status, delay, early notifications, dropped notifications), the
 * caller by a script, the end of a call by a notification or a hang-up, the
 * store by refused deletes, the user's handler by a gate the driver opens.
 * A path is planned as a whole first: a request must be held (or failed)
 * before it goes out, so each request's fate is read from the steps after it.
 *
 * The actor under test is observed on every snapshot; the abstract states it
 * passes through (model.ts: callStateKey / recordStateKey) must be the
 * path's, in order, and each step must reach its own state before the next
 * step is taken.
 */
import type { AnyActorRef } from 'xstate';
import { createMemoryRecordingStore } from '../adapters/memory-store.js';
import type { RecordingStore } from '../adapters/recording-store.js';
import type { CallerScript, FaultSpec } from '../emulator/index.js';
import type { RecordOutput } from '../machines/index.js';
import type { Clip, ClipHandler } from '../runtime/clip.js';
import { createHarness, type Harness, type HarnessOptions } from './harness.js';
import { type CallPath, type CallSnapshot, callStateKey } from './model-call.js';
import {
  MODEL_CALL_POLICY,
  MODEL_CALL_RECORD_POLICY,
  MODEL_RECORD_ID,
  MODEL_RECORD_OPTIONS,
  type ModelEvent,
  shortEvent,
} from './model-core.js';
import { type RecordPath, type RecordSnapshot, recordStateKey } from './model-record.js';

const SEC = 1_000;
const MIN = 60_000;
/** Unique clientContexts (a harness may be shared by several runs). */
let runSeq = 0;

/** A harness whose store can be told to refuse the next deletes. */
export interface ModelHarness extends Harness {
  /** The next `n` deletes of the store fail (EBUSY). */
  failDeletes(n: number): void;
}

/**
 * createHarness with what the model driver needs: a store whose deletes can
 * fail on demand, and the emulator's keepAlive expiry one minute after
 * Graph's 45 (the machine's own deadline is what a path observes; the real
 * service ends the call at about the same time, which the emulator tests cover).
 */
export async function createModelHarness(opts: HarnessOptions = {}): Promise<ModelHarness> {
  const inner = opts.store ?? createMemoryRecordingStore();
  let refuse = 0;
  const store: RecordingStore = {
    write: (key, body, signal) => inner.write(key, body, signal),
    open: (key) => inner.open(key),
    async delete(key) {
      if (refuse > 0) {
        refuse--;
        throw Object.assign(new Error('model: delete refused'), { code: 'EBUSY' });
      }
      return inner.delete(key);
    },
    list: () => inner.list(),
    close: () => inner.close(),
  };
  const h = await createHarness({
    ...opts,
    store,
    emulator: { keepAliveTimeoutMs: 46 * MIN, ...opts.emulator },
  });
  return Object.assign(h, {
    failDeletes(n: number) {
      refuse = n;
    },
  });
}

export interface PathRun {
  path: string;
  ok: boolean;
  /** What went wrong, with the step it happened at. */
  error?: string;
  /** Abstract states the path expects, consecutive repeats merged. */
  expected: string[];
  /** Abstract states the actor went through, consecutive repeats merged. */
  observed: string[];
  /** Simulated time the path took. */
  simulatedMs: number;
}

export interface RunRecordOptions {
  /**
   * Your clip handler: called on every path that reaches processing, with
   * the clip the emulator recorded. The driver decides when it runs and how
   * processing ends (it throws after your handler on `processClip error`
   * paths, waits for the abort on timeout paths), so each path also shows
   * your handler is aborted, and the clip deleted, whatever happens.
   */
  handler?: ClipHandler;
}

// ------------------------------------------------------------------ common

class Trace {
  readonly keys: string[] = [];
  push(key: string) {
    if (this.keys[this.keys.length - 1] !== key) this.keys.push(key);
  }
}

/** Expected keys (merged) and, for each step, the index of its key in them. */
function expectation<S>(steps: ReadonlyArray<{ state: S }>, key: (s: S) => string) {
  const expected: string[] = [];
  const at: number[] = [];
  for (const step of steps) {
    const k = key(step.state);
    if (expected[expected.length - 1] !== k) expected.push(k);
    at.push(expected.length - 1);
  }
  return { expected, at };
}

function divergence(trace: Trace, expected: string[]): number {
  for (let i = 0; i < trace.keys.length; i++) if (trace.keys[i] !== expected[i]) return i;
  return -1;
}

const short = (key: string | undefined) => {
  if (key === undefined) return '(nothing)';
  const o = JSON.parse(key) as Record<string, unknown>;
  return Object.entries(o)
    .filter(([, v]) => v !== false && v !== null && v !== 'none')
    .map(([k, v]) => (k === 'v' ? JSON.stringify(v) : `${k}=${JSON.stringify(v)}`))
    .join(' ');
};

/** The PathRun of a path, once it passed (no error) or failed. */
function resultOf(
  h: { clock: { now(): number } },
  path: string,
  expected: string[],
  trace: Trace,
  t0: number,
) {
  return (error?: string): PathRun => ({
    path,
    ok: !error,
    ...(error ? { error } : {}),
    expected: expected.map(short),
    observed: trace.keys.map(short),
    simulatedMs: h.clock.now() - t0,
  });
}

class PathFailure extends Error {}

interface Follow {
  h: Harness;
  trace: Trace;
  expected: string[];
  at: number[];
  steps: ReadonlyArray<{ event: ModelEvent }>;
  perform(i: number): Promise<void> | void;
  /** Longest simulated wait for step i to show. */
  limitMs?: number;
}

/** Take each step, then move time until the actor shows the step's state (or leaves the path). */
async function follow(f: Follow): Promise<void> {
  const check = (i: number) => {
    const d = divergence(f.trace, f.expected);
    if (d >= 0)
      throw new PathFailure(
        `step ${i} (${shortEvent(f.steps[i]!.event)}): expected ${short(f.expected[d])}, the actor went to ${short(f.trace.keys[d])}`,
      );
  };
  check(0);
  for (let i = 1; i < f.steps.length; i++) {
    await f.perform(i);
    const want = f.at[i]!;
    const reached = () => f.trace.keys.length > want || divergence(f.trace, f.expected) >= 0;
    const ok = await f.h.clock.runUntil(reached, f.limitMs ?? 2 * 3600_000);
    check(i);
    if (!ok || f.trace.keys.length <= want)
      throw new PathFailure(
        `step ${i} (${shortEvent(f.steps[i]!.event)}): ${short(f.expected[want])} never came (still ${short(f.trace.keys[f.trace.keys.length - 1])})`,
      );
  }
  // Nothing more may happen by itself once the path is done (time does not move here).
  await f.h.clock.advance(0);
  check(f.steps.length - 1);
  if (f.trace.keys.length !== f.expected.length)
    throw new PathFailure(
      `after the last step the actor went on to ${short(f.trace.keys[f.expected.length])}`,
    );
}

const stateValue = (s: unknown) => (s as { value: unknown }).value;
/** `{ established: 'active' }` as `established.active`. */
const flatValue = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v as Record<string, unknown>)
        .map(([k, c]) => `${k}.${flatValue(c)}`)
        .join(',');
const errorOf = (e: ModelEvent) => (e as { error?: { status?: number; at?: number } }).error;

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function fault(h: Harness, spec: FaultSpec) {
  h.emulator.control.injectFault(spec);
}

/** The call machine in `draining` tells the record CALL_ENDED: end it with a DELETE that Graph answers 404 (already gone), so the emulator's call, and its recording, go on. */
function endCallLocally(h: Harness, callId: string) {
  fault(h, { route: 'hangUp', callId, count: 1, fault: { kind: 'status', status: 404 } });
  h.runtime.hangUp(callId).catch(() => {});
}

async function storeKeysOf(h: Harness, recordIds: string[]): Promise<string[]> {
  const keys = await h.store.list();
  return keys.filter((k) => recordIds.some((id) => k.endsWith(`-${id}`)));
}

// -------------------------------------------------------------- record path

/**
 * Run one recordMachine path: a call on the emulator, `runtime.record` on it,
 * and the record child followed through the path's states. A path that ends
 * in a final state must end with the same outcome; any path must leave no
 * clip in the store once the record is over.
 */
export async function runRecordPath(
  h: ModelHarness,
  path: RecordPath,
  opts: RunRecordOptions = {},
): Promise<PathRun> {
  const steps = path.steps;
  const { expected, at } = expectation(steps, (s: RecordSnapshot) => recordStateKey(s));
  const trace = new Trace();
  const t0 = h.clock.now();
  const run = resultOf(h, path.description, expected, trace, t0);

  // ---- plan: what the caller does, which answers fail, what the handler does
  const prevValue = (i: number) => stateValue(steps[i - 1]!.state);
  let completion: 'completed' | 'failed' | 'timeout' | undefined;
  let early = false;
  let holdPost = false;
  let processing: 'done' | 'error' | 'timeout' | undefined;
  let deleteFailures = 0;
  let downloadFails = false;
  let postFault: number | 'timeout' | undefined;
  for (let i = 1; i < steps.length; i++) {
    const e = steps[i]!.event;
    const from = prevValue(i);
    if (e.type === 'OPERATION_COMPLETED' && completion === undefined) {
      completion = e.status === 'completed' ? 'completed' : 'failed';
      if (from === 'requesting') early = true;
    }
    if (e.type.startsWith('xstate.after.COMPLETION_TIMEOUT')) completion ??= 'timeout';
    if (from === 'requesting' && (e.type === 'CALL_ENDED' || e.type === 'RESUME')) holdPost = true;
    if (e.type === 'xstate.error.actor.startRecord')
      postFault = (e.error as { kind?: string }).kind === 'timeout' ? 'timeout' : (errorOf(e)?.status ?? 500);
    if (e.type === 'xstate.error.actor.downloadRecording') downloadFails = true;
    if (e.type === 'xstate.error.actor.deleteClip') deleteFailures++;
    if (e.type === 'xstate.done.actor.processClip') processing = 'done';
    if (e.type === 'xstate.error.actor.processClip') processing = 'error';
    if (e.type.startsWith('xstate.after.PROCESSING_TIMEOUT')) processing = 'timeout';
    if (e.type === 'xstate.error.actor.clipGuard')
      return run(`step ${i}: the runtime's clip guard cannot fail to start (pure-model event)`);
  }
  const script: CallerScript =
    completion === 'failed'
      ? { caller: { kind: 'silent' } }
      : { caller: { kind: 'speak', seconds: 0.5, thenTone: '#' } };

  const callId = h.call({ script });
  const call = h.runtime.get(callId)!;
  const recordRoutes = ['record', 'recordResponse'] as const;
  for (const route of recordRoutes) {
    if (early) fault(h, { route, callId, count: 1, fault: { kind: 'notification', mode: 'early' } });
    // Short: a failed completion (silence, 6 s) must still land inside the 10-s grace after CALL_ENDED.
    if (postFault === 'timeout')
      // Held past the adapter's 30-s timeout, then handled: the operation starts after all.
      fault(h, { route, callId, count: 1, fault: { kind: 'delay', ms: 31 * SEC } });
    else if (holdPost && !early) fault(h, { route, callId, count: 1, fault: { kind: 'delay', ms: 2 * SEC } });
    if (typeof postFault === 'number')
      fault(h, { route, callId, count: 1, fault: { kind: 'status', status: postFault } });
  }
  if (completion === 'timeout')
    fault(h, {
      callId,
      count: 1,
      resource: 'operation',
      changeType: 'deleted',
      fault: { kind: 'notification', mode: 'drop' },
    });
  if (downloadFails) fault(h, { route: 'download', count: 1, fault: { kind: 'status', status: 404 } });
  h.failDeletes(deleteFailures);

  const handlerGate = gate();
  const handler: ClipHandler = async (clip: Clip, signal: AbortSignal) => {
    if (processing !== 'timeout') await clip.wait(handlerGate.promise);
    const result = opts.handler ? await opts.handler(clip, signal) : { bytes: clip.bytes };
    if (processing === 'error') throw new Error('model: the handler fails on this path');
    if (processing === 'timeout')
      await clip.wait(
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      );
    return result;
  };

  const clientContext = `model-record-${++runSeq}`;
  const outcome = h.runtime
    .record(callId, { ...MODEL_RECORD_OPTIONS, clientContext }, handler)
    .then((o) => o as RecordOutput)
    .catch((err: unknown) => err as Error);
  const child = Object.values(call.getSnapshot().children as Record<string, AnyActorRef | undefined>).find(
    (c) => (c?.getSnapshot() as RecordSnapshot | undefined)?.context?.clientContext === clientContext,
  );
  if (!child) return run('the record was not started');
  const recordId = child.id;
  trace.push(recordStateKey(child.getSnapshot() as RecordSnapshot));
  child.subscribe({
    next: (s) => trace.push(recordStateKey(s as RecordSnapshot)),
    error: () => {},
  });

  try {
    await follow({
      h,
      trace,
      expected,
      at,
      steps,
      limitMs: 30 * MIN,
      perform(i) {
        const e = steps[i]!.event;
        if (e.type === 'CALL_ENDED') endCallLocally(h, callId);
        else if (e.type === 'RESUME') child.send({ type: 'RESUME', at: h.clock.now() });
        else if (e.type === 'xstate.done.actor.processClip' || e.type === 'xstate.error.actor.processClip')
          handlerGate.open();
      },
    });
    const last = steps[steps.length - 1]!.state as RecordSnapshot;
    const snap = child.getSnapshot() as RecordSnapshot;
    if (last.status === 'done') {
      const out = await outcome;
      if (out instanceof Error) throw new PathFailure(`record() rejected: ${out.message}`);
      if (out.outcome !== last.context.outcome)
        throw new PathFailure(`ended with outcome ${out.outcome}, the path says ${last.context.outcome}`);
      if (snap.status !== 'done') throw new PathFailure(`the record actor is ${snap.status}, not done`);
    } else {
      // Let the record finish on its own terms: the handler returns, the call ends.
      handlerGate.open();
      h.failDeletes(0);
      h.emulator.control.clearFaults();
      h.emulator.control.hangUpByCaller(callId);
      await h.clock.runUntil(() => child.getSnapshot().status !== 'active', 30 * MIN);
    }
    const left = await storeKeysOf(h, [recordId]);
    if (left.length)
      throw new PathFailure(`clip left in the store after the record ended: ${left.join(', ')}`);
    handlerGate.open();
    return run();
  } catch (err) {
    handlerGate.open();
    if (err instanceof PathFailure) return run(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------- call path

type Fate =
  | { kind: 'open' }
  | { kind: 'done'; held: boolean }
  | { kind: 'status'; status: number; held: boolean; retryAfterS?: number; late?: boolean }
  | { kind: 'deadline' };

/**
 * Run one callMachine path: a call tracked by the runtime, steered through
 * the path's states. The record child (RECORD) holds its clip in processing
 * until the path says it is done. Whatever the path's end, the call is then
 * ended and nothing may be left in the store.
 */
export async function runCallPath(h: ModelHarness, path: CallPath): Promise<PathRun> {
  const steps = path.steps;
  const key = (s: CallSnapshot) => callStateKey(s, false);
  const { expected, at } = expectation(steps, key);
  const trace = new Trace();
  const t0 = h.clock.now();
  const run = resultOf(h, path.description, expected, trace, t0);
  const value = (i: number) => flatValue(stateValue(steps[i]!.state));
  const ctx = (i: number) => (steps[i]!.state as CallSnapshot).context;

  /** The step that ends the stay in `state` entered at step i (RESUME re-entering keepAliveDue ends a request too). */
  const exitOf = (i: number, state: string, resumeEnds: boolean) => {
    let interleaved = false;
    for (let j = i + 1; j < steps.length; j++) {
      const e = steps[j]!.event;
      if (value(j) !== state || (resumeEnds && e.type === 'RESUME')) return { j, interleaved };
      interleaved = true;
    }
    return { j: undefined, interleaved };
  };

  /** What the keepAlive sent at step i must do. */
  const keepAliveFate = (i: number): Fate => {
    const { j, interleaved } = exitOf(i, 'established.keepAliveDue', true);
    if (j === undefined) return { kind: 'open' };
    const e = steps[j]!.event;
    if (e.type === 'xstate.done.actor.keepAlive') return { kind: 'done', held: interleaved };
    if (e.type.startsWith('xstate.after.KEEPALIVE_DEADLINE')) return { kind: 'deadline' };
    if (e.type === 'xstate.error.actor.keepAlive') {
      const status = errorOf(e)?.status ?? 503;
      // 404 and a refusal (403) end the call: no retry follows, so nothing to time.
      if (status === 404 || status === 403) return { kind: 'status', status, held: interleaved };
      if (ctx(j).retryAt === null) return { kind: 'status', status, held: true, late: true };
      return { kind: 'status', status, held: interleaved, retryAfterS: retryAfterFor(j) };
    }
    return { kind: 'open' };
  };

  /** Retry-After for the failure at step j: land the retry 10 s before the deadline when the next try must run into it. */
  const retryAfterFor = (j: number): number => {
    const { j: k } = exitOf(j, 'established.retryWait', false);
    if (k === undefined || !steps[k]!.event.type.startsWith('xstate.after.RETRY_DELAY')) return 600;
    const { j: m } = exitOf(k, 'established.keepAliveDue', false);
    if (m === undefined) return 60;
    const e = steps[m]!.event;
    const late =
      e.type.startsWith('xstate.after.KEEPALIVE_DEADLINE') ||
      (e.type === 'xstate.error.actor.keepAlive' &&
        ctx(m).retryAt === null &&
        errorOf(e)?.status !== 404 &&
        errorOf(e)?.status !== 403);
    return late ? 3600 : 60;
  };

  const hangUpFate = (i: number): Fate => {
    const { j, interleaved } = exitOf(i, 'terminating', false);
    if (j === undefined) return { kind: 'open' };
    const e = steps[j]!.event;
    if (e.type === 'xstate.done.actor.hangUp') return { kind: 'done', held: interleaved };
    if (e.type === 'xstate.error.actor.hangUp')
      return { kind: 'status', status: errorOf(e)?.status ?? 403, held: interleaved };
    return { kind: 'open' };
  };

  const callId = h.emulator.createCall({
    callbackUri: h.callbackUri,
    script: { caller: { kind: 'speak', seconds: 0.5, thenTone: '#' } },
  }).id;
  const actor = h.runtime.track(callId, { policy: { ...MODEL_CALL_POLICY } });
  trace.push(key(actor.getSnapshot() as CallSnapshot));
  actor.subscribe({ next: (s) => trace.push(key(s as CallSnapshot)), error: () => {} });
  const emitted: string[] = [];
  actor.on('*', (e: { type: string }) => emitted.push(e.type));

  const handlerGate = gate();
  const recordIds: string[] = [];
  const pending: Promise<unknown>[] = [];
  const arm = (route: 'keepAlive' | 'hangUp', f: Fate) => {
    if (f.kind === 'open' || (f.kind === 'done' && f.held))
      fault(h, { route, callId, count: 1, fault: { kind: 'delay', ms: 10 * SEC } });
    if (f.kind === 'deadline') fault(h, { route, callId, count: 1, fault: { kind: 'delay', ms: 20 * SEC } });
    if (f.kind === 'status') {
      if (f.held)
        fault(h, { route, callId, count: 1, fault: { kind: 'delay', ms: f.late ? 5 * SEC : 10 * SEC } });
      fault(h, {
        route,
        callId,
        count: 1,
        fault: {
          kind: 'status',
          status: f.status,
          ...(f.retryAfterS !== undefined ? { retryAfter: String(f.retryAfterS) } : {}),
        },
      });
    }
  };

  const recordChild = () =>
    recordIds.length
      ? (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[recordIds[0]!]
      : undefined;

  const record = (policy: Record<string, unknown>, expectStart: boolean) => {
    const p = h.runtime
      .record(
        callId,
        { ...MODEL_RECORD_OPTIONS, clientContext: `model-call-${++runSeq}` },
        async (clip: Clip) => {
          await clip.wait(handlerGate.promise);
          return clip.bytes;
        },
        { policy: policy as never },
      )
      .then(
        () => true,
        () => false,
      );
    pending.push(p);
    const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
    const ids = Object.keys(children).filter((id) => /^rec-/.test(id) && !recordIds.includes(id));
    if (expectStart && ids[0]) recordIds.push(ids[0]);
    return p;
  };

  try {
    await follow({
      h,
      trace,
      expected,
      at,
      steps,
      async perform(i) {
        const e = steps[i]!.event;
        const from = value(i - 1);
        const to = value(i);
        const due = 'established.keepAliveDue';
        const sendsKeepAlive = to === due && (from !== due || e.type === 'RESUME');
        if (sendsKeepAlive) arm('keepAlive', keepAliveFate(i));
        if (to === 'terminating' && from !== 'terminating') arm('hangUp', hangUpFate(i));
        switch (e.type) {
          case 'RESUME':
            actor.send({ type: 'RESUME', at: h.clock.now() });
            return;
          case 'NOTIFICATION':
            // The only notification the call model steers from outside: the caller hangs up.
            h.emulator.control.hangUpByCaller(callId);
            return;
          case 'HANG_UP':
            h.runtime.hangUp(callId).catch(() => {});
            return;
          case 'CANCEL_MEDIA':
            if (steps[i + 1]?.event.type.startsWith('xstate.error.actor.cancel-'))
              fault(h, {
                route: 'cancelMediaProcessing',
                callId,
                count: 1,
                fault: { kind: 'status', status: errorOf(steps[i + 1]!.event)?.status ?? 403 },
              });
            h.runtime.cancelMedia(callId, String(e.clientContext ?? 'model-cancel'));
            return;
          case 'RECORD': {
            const bad =
              (e.policy as { processingTimeoutMs?: number } | undefined)?.processingTimeoutMs === -1;
            const accepted =
              !bad && Object.keys(ctx(i).records).length > Object.keys(ctx(i - 1).records).length;
            const started = record(
              bad ? { processingTimeoutMs: -1 } : { ...MODEL_CALL_RECORD_POLICY },
              accepted,
            );
            if (!accepted) {
              if (await started)
                throw new PathFailure(`step ${i}: the runtime accepted a RECORD the model rejects`);
              if (!emitted.includes('call.recordRejected'))
                throw new PathFailure(`step ${i}: no call.recordRejected`);
              return;
            }
            // The clip is held in processing until the path says the record is done.
            const ok = await h.clock.runUntil(
              () => JSON.stringify(recordChild()?.getSnapshot().value ?? '').includes('processing'),
              30 * SEC,
            );
            if (!ok) throw new PathFailure(`step ${i}: the record did not reach processing`);
            return;
          }
          default:
            if (e.type === `xstate.done.actor.${MODEL_RECORD_ID}`) handlerGate.open();
        }
      },
    });
    for (let i = 1; i < steps.length; i++)
      if (
        steps[i]!.event.type.startsWith('xstate.error.actor.cancel-') &&
        !emitted.includes('call.cancelMediaFailed')
      )
        throw new PathFailure(`step ${i}: no call.cancelMediaFailed`);
    const last = steps[steps.length - 1]!.state as CallSnapshot;
    if (last.status === 'done') {
      const out = actor.getSnapshot().output as { reason?: string } | undefined;
      if (out?.reason !== last.context.endReason)
        throw new PathFailure(`ended ${out?.reason}, the path says ${last.context.endReason}`);
    }
    // Whatever the path's end: the call ends and leaves nothing behind.
    if (actor.getSnapshot().status === 'active') {
      h.emulator.control.clearFaults();
      handlerGate.open();
      if (!h.emulator.control.hangUpByCaller(callId)) h.runtime.hangUp(callId).catch(() => {});
      await h.clock.runUntil(() => actor.getSnapshot().status !== 'active', 60 * MIN);
      if (actor.getSnapshot().status === 'active')
        throw new PathFailure('the call did not end after the path');
    }
    const child = recordChild();
    if (child && child.getSnapshot().status === 'active')
      throw new PathFailure(`record ${child.id} still running after the call ended`);
    await h.clock.advance(0);
    const left = await storeKeysOf(h, recordIds);
    if (left.length) throw new PathFailure(`clip left in the store after the call ended: ${left.join(', ')}`);
    handlerGate.open();
    await Promise.all(pending);
    return run();
  } catch (err) {
    handlerGate.open();
    if (err instanceof PathFailure) return run(err.message);
    throw err;
  }
}

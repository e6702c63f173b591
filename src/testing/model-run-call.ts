/** Drives one callMachine model path through the real runtime against the emulator (model-run.ts has the engine). */
import type { AnyActorRef } from 'xstate';
import { callMachine } from '../machines/index.js';
import type { Clip } from '../runtime/clip.js';
import { type CallPath, type CallSnapshot, callMachinePaths, callStateKey } from './model-call.js';
import {
  MODEL_CALL_POLICY,
  MODEL_CALL_RECORD_POLICY,
  MODEL_RECORD_ID,
  MODEL_RECORD_OPTIONS,
  type ModelEvent,
} from './model-core.js';
import { replay } from './model-coverage.js';
import {
  errorOf,
  expectation,
  fault,
  flatValue,
  follow,
  gate,
  MIN,
  type ModelHarness,
  nextRun,
  PathFailure,
  type PathRun,
  resultOf,
  SEC,
  stateValue,
  storeKeysOf,
  Trace,
} from './model-run.js';

const PROMPT_URI = 'https://media.example/hello.wav';
const isToneNote = (e: ModelEvent) => !!(e as { resource?: { toneInfo?: unknown } }).resource?.toneInfo;

/** The events the runner below can produce (model-call's `realizable` ones, then prompts and key presses). */
function drivable(path: CallPath): boolean {
  let lastTone = -1;
  for (const { event: e } of path.steps.slice(1)) {
    const kind = (e as { resource?: { kind?: string } }).resource?.kind;
    if (e.type === 'OPERATION_STARTED' || kind === 'operation') return false;
    if (/^xstate\.(done|error)\.actor\.prompt-/.test(e.type)) return false;
    if (e.type === `xstate.error.actor.${MODEL_RECORD_ID}`) return false;
    if (isToneNote(e)) {
      const seq = (e as unknown as { resource: { toneInfo: { sequenceId: number } } }).resource.toneInfo
        .sequenceId;
      // A key press is reported once (a repeat is the machine's to drop); the runner subscribes first.
      if (seq <= lastTone) return false;
      lastTone = seq;
    }
  }
  return true;
}

/**
 * Paths over all the call model's events (from the established start) that
 * take a transition `known` misses, with prompts and key presses the runner
 * can produce: shortest first, greedily.
 */
export function callMediaPaths(known: Iterable<string>): CallPath[] {
  const covered = new Set(known);
  const { shortest, transitions } = callMachinePaths({ events: 'all' });
  const out: CallPath[] = [];
  for (const p of [...shortest, ...transitions].sort((a, b) => a.steps.length - b.steps.length)) {
    if (!drivable(p)) continue;
    const taken = replay(callMachine, p).transitions;
    if (!taken.some((t) => !covered.has(t))) continue;
    for (const t of taken) covered.add(t);
    out.push(p);
  }
  return out;
}

/** What a request the path sends must do: answer, fail, or be held while the path goes on. */
type RequestFate =
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
  const keepAliveFate = (i: number): RequestFate => {
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

  const hangUpFate = (i: number): RequestFate => {
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
    // Prompts play until the call ends: the paths never wait for one (see callMediaPaths).
    script: {
      caller: { kind: 'speak', seconds: 0.5, thenTone: '#' },
      promptSecondsByUri: { [PROMPT_URI]: 86_400 },
    },
  }).id;
  const actor = h.runtime.track(callId, { policy: { ...MODEL_CALL_POLICY } });
  trace.push(key(actor.getSnapshot() as CallSnapshot));
  actor.subscribe({ next: (s) => trace.push(key(s as CallSnapshot)), error: () => {} });
  const emitted: string[] = [];
  actor.on('*', (e: { type: string }) => emitted.push(e.type));

  const handlerGate = gate();
  let subscribed: Promise<unknown> = Promise.resolve();
  let subscribeSettled = true;
  let subscribing = false;
  const subscribe = (clientContext: string) => {
    subscribing = true;
    subscribeSettled = false;
    subscribed = h.runtime
      .subscribeToTones(callId, clientContext)
      .catch(() => {})
      .finally(() => {
        subscribeSettled = true;
      });
  };
  const recordIds: string[] = [];
  const pending: Promise<unknown>[] = [];
  const arm = (route: 'keepAlive' | 'hangUp', f: RequestFate) => {
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
        { ...MODEL_RECORD_OPTIONS, clientContext: `model-call-${nextRun()}` },
        async (clip: Clip) => {
          await clip.letTimeRun(handlerGate.promise);
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
            if (isToneNote(e)) {
              // Graph reports key presses only once subscribeToTone went through. A subscription
              // that succeeds changes no abstract state, so the model's paths never name it: take one here.
              if (!subscribing) subscribe('model-tones');
              await h.clock.runUntil(() => subscribeSettled, 30 * SEC);
              await subscribed;
              h.emulator.control.pressKeys(callId, '1');
              return;
            }
            // Otherwise the caller hangs up.
            h.emulator.control.hangUpByCaller(callId);
            return;
          case 'PLAY_PROMPT':
            // One clientContext for every prompt: a second one while the first plays is refused as taken.
            h.runtime.playPrompt(callId, [PROMPT_URI], { clientContext: 'model-prompt' }).catch(() => {});
            return;
          case 'SUBSCRIBE_TONES': {
            const next = steps[i + 1]?.event;
            if (next?.type.startsWith('xstate.error.actor.tones-'))
              fault(h, {
                route: 'subscribeToTone',
                callId,
                count: 1,
                fault: { kind: 'status', status: errorOf(next)?.status ?? 500 },
              });
            subscribe(String(e.clientContext ?? 'model-tones'));
            return;
          }
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
            if (bad) {
              // The runtime refuses a bad policy where it is given (OptionsError), so the machine
              // never sees it from there; its own guard gets the event sent directly.
              if (await record({ processingTimeoutMs: -1 }, false))
                throw new PathFailure(`step ${i}: the runtime accepted a record policy it must refuse`);
              actor.send({ ...(e as object), at: h.clock.now() } as never);
              if (!emitted.includes('call.recordRejected'))
                throw new PathFailure(`step ${i}: no call.recordRejected`);
              return;
            }
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
      if (out?.reason !== last.context.end.reason)
        throw new PathFailure(`ended ${out?.reason}, the path says ${last.context.end.reason}`);
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

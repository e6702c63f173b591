/**
 * Call paths that start offered ('incoming') or placed ('outgoing'), run
 * against the emulator through the runtime (answer/reject/redirect, placeCall).
 * Each path stops where the call is established: from there on the
 * established-start runs (model-run-call.ts) drive it. The emulator's scripts
 * (establish order and delay, the callee) are chosen from the path before it starts.
 */
import type { Actor } from 'xstate';
import type { callMachine } from '../machines/index.js';
import { callMachine as machine } from '../machines/index.js';
import { type CallPath, type CallSnapshot, callMachinePaths, callStateKey } from './model-call.js';
import { flat, MODEL_TARGET, type ModelEvent, shortEvent } from './model-core.js';
import { replay } from './model-coverage.js';
import {
  errorOf,
  expectation,
  fault,
  flatValue,
  follow,
  MIN,
  type ModelHarness,
  PathFailure,
  type PathRun,
  resultOf,
  SEC,
  stateValue,
  Trace,
} from './model-run.js';
import { callIdOf, endReasonOf } from './model-run-context.js';

type CallActor = Actor<typeof callMachine>;

type Note = {
  resource?: {
    state?: string | null;
    resultInfo?: { code: number; subcode: number; message: string } | null;
  };
};
const noteState = (e: ModelEvent) => (e as Note).resource?.state ?? null;
const noteInfo = (e: ModelEvent) => (e as Note).resource?.resultInfo ?? undefined;

/**
 * Paths from the offered and the placed start, cut where the call is
 * established, keeping only those that take a transition `known` (ids the
 * established-start suite covers) does not: shortest first, greedily.
 */
export function callSetupPaths(known: Iterable<string>): CallPath[] {
  const covered = new Set(known);
  const out: CallPath[] = [];
  for (const start of ['incoming', 'outgoing'] as const) {
    const { shortest, transitions } = callMachinePaths({ start });
    const cut = [...shortest, ...transitions].map((p) => {
      const k = p.steps.findIndex((s) => flat(stateValue(s.state)).startsWith('established'));
      const steps = k < 0 ? p.steps : p.steps.slice(0, k + 1);
      const last = steps[steps.length - 1]!.state as CallSnapshot;
      const description = `${start}: ${steps
        .slice(1)
        .map((s) => shortEvent(s.event as ModelEvent))
        .join(' -> ')} => ${flat(last.value)}`;
      return { ...p, steps, description } as CallPath;
    });
    cut.sort((a, b) => a.steps.length - b.steps.length);
    for (const p of cut) {
      if (!drivable(p)) continue;
      const taken = replay(machine, p).transitions;
      if (!taken.some((t) => !covered.has(t))) continue;
      for (const t of taken) covered.add(t);
      out.push(p);
    }
  }
  return out;
}

/**
 * The emulator's `early` fault sends the answer's notifications just before
 * its 202, never long before: a path must take the answer's success right
 * after an early `established` (test/model/unreachable.ts names what that leaves out).
 */
function drivable(p: CallPath): boolean {
  const v = (i: number) => flat(stateValue(p.steps[i]!.state));
  return p.steps.every(
    (s, i) =>
      !(i > 0 && v(i - 1) === 'answering' && v(i) === 'answering' && s.event.type === 'NOTIFICATION') ||
      p.steps[i + 1]?.event.type === 'xstate.done.actor.answer',
  );
}

/** What the request a state sends must do: answer, fail, or be held while the path goes on. */
type RequestFate =
  | { kind: 'done'; held: boolean }
  | { kind: 'status'; status: number; held: boolean }
  | { kind: 'hold' };

export async function runCallSetupPath(h: ModelHarness, path: CallPath): Promise<PathRun> {
  const steps = path.steps;
  const key = (s: CallSnapshot) => callStateKey(s, false);
  const { expected, at } = expectation(steps, key);
  const trace = new Trace();
  const t0 = h.clock.now();
  const run = resultOf(h, path.description, expected, trace, t0);
  const value = (i: number) => flatValue(stateValue(steps[i]!.state));
  const first = value(0);

  /** The step that leaves the state entered at step i, and whether other steps came first. */
  const exitOf = (i: number) => {
    const state = value(i);
    for (let j = i + 1; j < steps.length; j++) if (value(j) !== state) return { j, interleaved: j > i + 1 };
    return { j: undefined, interleaved: false };
  };
  /** The first step that enters `state`. */
  const entry = (state: string) => steps.findIndex((_, i) => value(i) === state);
  const fateOf = (i: number, actorId: string): RequestFate => {
    const { j, interleaved } = exitOf(i);
    if (j === undefined) return { kind: 'hold' };
    const e = steps[j]!.event;
    if (e.type === `xstate.done.actor.${actorId}`) return { kind: 'done', held: interleaved };
    if (e.type === `xstate.error.actor.${actorId}`)
      return { kind: 'status', status: errorOf(e)?.status ?? 500, held: interleaved };
    return { kind: 'hold' };
  };
  const arm = (
    route: 'answer' | 'reject' | 'redirect' | 'hangUp' | 'createCall',
    f: RequestFate,
    callId?: string,
  ) => {
    const only = callId ? { callId } : {};
    if (f.kind === 'hold' || f.held)
      fault(h, { route, ...only, count: 1, fault: { kind: 'delay', ms: 10 * SEC } });
    if (f.kind === 'status')
      fault(h, { route, ...only, count: 1, fault: { kind: 'status', status: f.status } });
  };

  // The emulator's scripts, read off the path: how the answer establishes, what the callee does.
  const exitEvent = (state: string) => {
    const i = entry(state);
    const j = i < 0 ? undefined : exitOf(i).j;
    return j === undefined ? undefined : steps[j]!.event;
  };
  const establishes = (e: ModelEvent | undefined) =>
    e?.type === 'NOTIFICATION' && noteState(e) === 'established';
  const earlyIdx = steps.findIndex(
    (s, i) => i > 0 && value(i - 1) === 'answering' && value(i) === 'answering' && establishes(s.event),
  );
  const early = earlyIdx > 0;
  const inEstablishing = exitEvent('establishing');
  const establish = early
    ? { order: 'establishedFirst' as const }
    : establishes(inEstablishing)
      ? { afterSeconds: 1 }
      : { afterSeconds: 3600 };
  const ringingExit = exitEvent('ringing');
  const callee =
    ringingExit?.type === 'NOTIFICATION'
      ? establishes(ringingExit)
        ? { kind: 'answer' as const, afterSeconds: 1 }
        : { kind: 'decline' as const, afterSeconds: 1, resultInfo: noteInfo(ringingExit)! }
      : { kind: 'noAnswer' as const, ringSeconds: 3600 };

  let actor: CallActor | undefined;
  const callId = () => callIdOf(actor!.getSnapshot() as CallSnapshot);
  const watch = (a: CallActor) => {
    actor = a;
    trace.push(key(a.getSnapshot() as CallSnapshot));
    a.subscribe({ next: (s) => trace.push(key(s as CallSnapshot)), error: () => {} });
  };
  const quiet = (p: Promise<unknown>) => void p.catch(() => {});

  try {
    if (first === 'offered') {
      const { id } = h.emulator.control.ring({
        callbackUri: h.callbackUri,
        script: { offer: { decisionSeconds: 60 }, establish },
      });
      const ok = await h.clock.runUntil(() => h.runtime.get(id) !== undefined, 5 * SEC);
      if (!ok) throw new PathFailure('the offer never reached the runtime');
      watch(h.runtime.get(id)!);
    } else {
      arm('createCall', fateOf(0, 'placeCall'));
      // The callee belongs to the emulator's call, created by the POST: the default script gives it.
      h.emulator.control.setDefaultScript({ callee, establish });
      const before = new Set(h.runtime.calls());
      quiet(h.runtime.placeCall({ targets: [{ ...MODEL_TARGET }] }));
      const handle = h.runtime.calls().find((c) => !before.has(c));
      if (!handle) throw new PathFailure('placeCall started no call');
      watch(h.runtime.get(handle)!);
    }
    await follow({
      h,
      trace,
      expected,
      at,
      steps,
      perform(i) {
        const e = steps[i]!.event;
        const from = value(i - 1);
        const to = value(i);
        const entering = (s: string) => to === s && from !== s;
        if (entering('answering')) arm('answer', fateOf(i, 'answer'), callId());
        if (entering('rejecting')) arm('reject', fateOf(i, 'reject'), callId());
        if (entering('redirecting')) arm('redirect', fateOf(i, 'redirect'), callId());
        if (entering('terminating')) arm('hangUp', fateOf(i, 'hangUp'), callId());
        if (i === earlyIdx - 1 || (early && entering('answering')))
          fault(h, {
            route: 'answer',
            callId: callId(),
            count: 1,
            fault: { kind: 'notification', mode: 'early' },
          });
        switch (e.type) {
          case 'ANSWER':
            return quiet(h.runtime.answer(callId()));
          case 'REJECT':
            return quiet(h.runtime.reject(callId(), 'busy'));
          case 'REDIRECT':
            return quiet(h.runtime.redirect(callId(), [{ ...MODEL_TARGET }], 30));
          case 'HANG_UP':
            return quiet(h.runtime.hangUp(callId()));
          case 'RESUME':
            actor!.send({ type: 'RESUME', at: h.clock.now() });
            return;
          case 'NOTIFICATION':
            // Graph's own state notifications come from the scripts; the path's end notification is the far side leaving.
            if (noteState(e) === 'terminated' && from !== 'ringing') {
              const info = noteInfo(e);
              h.emulator.control.hangUpByCaller(callId(), info ? { resultInfo: info } : {});
            }
            return;
        }
      },
    });
    const last = steps[steps.length - 1]!.state as CallSnapshot;
    if (last.status === 'done') {
      const out = actor!.getSnapshot().output as { reason?: string } | undefined;
      if (out?.reason !== endReasonOf(last))
        throw new PathFailure(`ended ${out?.reason}, the path says ${endReasonOf(last)}`);
    }
    // Whatever the path's end: the call ends.
    if (actor!.getSnapshot().status === 'active') {
      h.emulator.control.clearFaults();
      const id = callId();
      let byCaller = false;
      try {
        byCaller = h.emulator.control.hangUpByCaller(id);
      } catch {
        // Not known to the emulator (a placed call Graph refused).
      }
      if (!byCaller) quiet(h.runtime.hangUp(id));
      await h.clock.runUntil(() => actor!.getSnapshot().status !== 'active', 60 * MIN);
      if (actor!.getSnapshot().status === 'active')
        throw new PathFailure('the call did not end after the path');
    }
    return run();
  } catch (err) {
    if (err instanceof PathFailure) return run(err.message);
    throw err;
  }
}

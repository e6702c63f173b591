/** Drives one recordMachine model path through the real runtime against the emulator (model-run.ts has the engine). */
import type { AnyActorRef } from 'xstate';
import type { CallerScript } from '../emulator/index.js';
import type { RecordOutput } from '../machines/index.js';
import type { Clip, ClipHandler } from '../runtime/clip.js';
import { MODEL_RECORD_OPTIONS } from './model-core.js';
import { type RecordPath, type RecordSnapshot, recordStateKey } from './model-record.js';
import {
  endCallLocally,
  errorOf,
  expectation,
  fault,
  follow,
  gate,
  MIN,
  type ModelHarness,
  nextRun,
  PathFailure,
  type PathRun,
  type RunRecordOptions,
  resultOf,
  SEC,
  stateValue,
  storeKeysOf,
  Trace,
} from './model-run.js';

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
    if (processing !== 'timeout') await clip.letTimeRun(handlerGate.promise);
    const result = opts.handler ? await opts.handler(clip, signal) : { bytes: clip.bytes };
    if (processing === 'error') throw new Error('model: the handler fails on this path');
    if (processing === 'timeout')
      await clip.letTimeRun(
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      );
    return result;
  };

  const clientContext = `model-record-${nextRun()}`;
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

import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { RecordOptionsInput } from '../../src/graph/schemas.js';
import {
  completionWindowMs,
  DEFAULT_RECORD_POLICY,
  type RecordEmitted,
  type RecordInput,
  type RecordOutput,
  recordMachine,
  resolveRecordPolicy,
} from '../../src/machines/index.js';
import {
  completion,
  httpError,
  MIN,
  PENDING,
  providedRecord,
  type RecordFakes,
  recordFakes,
  SEC,
  stateTrail,
} from './fakes.js';

const OPTIONS: RecordOptionsInput = {
  maxRecordDurationInSeconds: 10,
  initialSilenceTimeoutInSeconds: 3,
  maxSilenceTimeoutInSeconds: 2,
  playBeep: true,
  stopTones: ['#'],
};
// 1 (beep) + 3 + 10 + 2 seconds + 30 s margin
const WINDOW = 46 * SEC;

function setup(
  opts: {
    options?: RecordOptionsInput;
    policy?: RecordInput['policy'];
    fakes?: (f: RecordFakes, clock: SimulatedClock) => void;
  } = {},
) {
  const clock = new SimulatedClock();
  const t0 = clock.now();
  const f = recordFakes(clock);
  opts.fakes?.(f, clock);
  const input: RecordInput = {
    callId: 'call-1',
    recordId: 'rec-1',
    clientContext: 'ctx-1',
    options: opts.options ?? OPTIONS,
    at: t0,
    storeKey: 'call-1-rec-1',
    ...(opts.policy ? { policy: opts.policy } : {}),
  };
  const machine = providedRecord(f);
  const { trail, inspect } = stateTrail((ref) => ref === actor);
  const actor = createActor(machine, { clock, input, inspect });
  const events: RecordEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  let doneAt: number | undefined;
  const errors: unknown[] = [];
  actor.subscribe({
    complete: () => {
      doneAt = clock.now();
    },
    error: (e) => errors.push(e),
  });
  actor.start();
  const output = () => actor.getSnapshot().output as RecordOutput | undefined;
  const done = () => actor.getSnapshot().status === 'done';
  return {
    clock,
    t0,
    f,
    actor,
    events,
    trail,
    errors,
    output,
    done,
    machine,
    input,
    doneAt: () => doneAt,
  };
}

describe('recordMachine: happy path', () => {
  it('passes every state in order, emits each step, and deletes the clip', async () => {
    const r = setup();
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
    expect(r.f.startRecord.last.input).toEqual({
      callId: 'call-1',
      clientContext: 'ctx-1',
      options: OPTIONS,
    });
    expect(r.actor.getSnapshot().context.operationId).toBe('op-1');

    await r.clock.advance(8 * SEC);
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();

    expect(r.done()).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.trail).toEqual([
      'requesting',
      'recording',
      'completed',
      'holdingClip:downloading',
      'holdingClip:downloaded',
      'holdingClip:processing:running',
      'holdingClip:deleting:trying',
      'deleted',
    ]);
    expect(r.events.map((e) => e.type)).toEqual([
      'record.started',
      'record.completed',
      'record.downloaded',
      'record.processed',
      'record.deleted',
    ]);
    expect(r.events[0]).toMatchObject({ operationId: 'op-1' });
    expect(r.events[1]).toMatchObject({ completionReason: 'stopToneDetected' });
    expect(r.events[2]).toMatchObject({ bytes: 160_696 });

    expect(r.f.download.last.input).toEqual({
      callId: 'call-1',
      operationId: 'op-1',
      recordingLocation: 'https://media.example/rec/op-1',
      storeKey: 'call-1-rec-1',
    });
    expect(r.f.process.last.input).toEqual({
      callId: 'call-1',
      recordId: 'rec-1',
      operationId: 'op-1',
      storeKey: 'call-1-rec-1',
      bytes: 160_696,
      completionReason: 'stopToneDetected',
      resultInfo: { code: 200, subcode: 8515, message: 'ok' },
      clientContext: 'ctx-1',
      // Completed and downloaded at 8 s, plus the default processing timeout.
      processingDeadlineAt: r.t0 + 8 * SEC + 60 * SEC,
    });
    expect(r.f.del.calls).toHaveLength(1);
    expect(r.f.store.size).toBe(0);
    expect(r.f.guard).toEqual({ started: 1, cleanups: 1 });
    expect(r.output()).toEqual({
      callId: 'call-1',
      recordId: 'rec-1',
      clientContext: 'ctx-1',
      operationId: 'op-1',
      final: 'deleted',
      outcome: 'processed',
      completionReason: 'stopToneDetected',
      resultInfo: { code: 200, subcode: 8515, message: 'ok' },
      bytes: 160_696,
      summary: { words: 3 },
      at: r.t0 + 8 * SEC,
    });
  });

  it('tags the clip-holding states with media', async () => {
    const r = setup({ fakes: (f) => (f.process.respond = () => PENDING) });
    await r.clock.settle();
    expect(r.actor.getSnapshot().hasTag('media')).toBe(false);
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    expect(r.actor.getSnapshot().matches({ holdingClip: 'processing' })).toBe(true);
    expect(r.actor.getSnapshot().hasTag('media')).toBe(true);
  });

  it('goes straight to the download when the POST answer is already a completed operation', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.startRecord.respond = () => ({
          operationId: 'op-1',
          status: 'completed',
          at: clock.now(),
          completion: completion(clock.now()),
        })),
    });
    await r.clock.settle();
    expect(r.trail.slice(0, 3)).toEqual(['requesting', 'completed', 'holdingClip:downloading']);
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });
});

describe('recordMachine: failure outcomes', () => {
  it('requestFailed: the POST fails, error JSON kept, nothing downloaded', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.startRecord.respond = () => {
          throw httpError(503, clock.now(), { retryAfterMs: 2000 });
        }),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'requestFailed',
      error: { kind: 'http', status: 503, retryAfterMs: 2000 },
    });
    expect(r.output()?.operationId).toBeUndefined();
    expect(r.events.map((e) => e.type)).toEqual(['record.failed']);
    expect(r.events[0]).toMatchObject({ outcome: 'requestFailed' });
    expect(r.f.download.calls).toHaveLength(0);
  });

  it('invalidOptions: an invalidRequest error before any request', async () => {
    const r = setup({
      fakes: (f) =>
        (f.startRecord.respond = () => {
          throw { kind: 'invalidRequest', message: 'maxRecordDurationInSeconds: too big' };
        }),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'invalidOptions',
      error: { kind: 'invalidRequest', message: 'maxRecordDurationInSeconds: too big' },
    });
  });

  it('invalidOptions: Graph answers 400 (a service with tighter limits than ours)', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.startRecord.respond = () => {
          throw httpError(400, clock.now(), { code: 'BadRequest' });
        }),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'failed', outcome: 'invalidOptions', error: { status: 400 } });
  });

  it('other 4xx answers stay requestFailed', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.startRecord.respond = () => {
          throw httpError(403, clock.now());
        }),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'failed', outcome: 'requestFailed', error: { status: 403 } });
  });

  it('a thrown Error (not JSON) still ends as requestFailed with its message', async () => {
    const r = setup({
      fakes: (f) =>
        (f.startRecord.respond = () => {
          throw new Error('socket hang up');
        }),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      outcome: 'requestFailed',
      error: { kind: 'error', message: 'socket hang up' },
    });
    expect(r.errors).toEqual([]);
  });

  it('operationFailed: a failed completion keeps completionReason and resultInfo', async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(
      completion(r.clock.now(), {
        status: 'failed',
        completionReason: 'operationCanceled',
        resultInfo: { code: 400, subcode: 8508, message: 'cancelled' },
        recordingLocation: null,
        hasRecording: false,
      }),
    );
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'operationFailed',
      operationId: 'op-1',
      completionReason: 'operationCanceled',
      resultInfo: { code: 400, subcode: 8508 },
    });
    expect(r.f.download.calls).toHaveLength(0);
  });

  it('operationFailed: a completed status without a fetchable recording', async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { hasRecording: false }));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'failed', outcome: 'operationFailed' });
  });

  it('operationFailed: the POST answer is already failed', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.startRecord.respond = () => ({
          operationId: 'op-1',
          status: 'failed',
          at: clock.now(),
          completion: completion(clock.now(), {
            status: 'failed',
            completionReason: 'playPromptFailed',
            hasRecording: false,
          }),
        })),
    });
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'operationFailed',
      completionReason: 'playPromptFailed',
    });
  });

  it('downloadFailed: a partial download is deleted and the record ends deleted', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.download.respond = (input) => {
          f.store.set(input.storeKey, 4096); // partial bytes written before the failure
          throw httpError(404, clock.now());
        }),
    });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'downloadFailed', error: { status: 404 } });
    expect(r.f.process.calls).toHaveLength(0);
    expect(r.f.del.calls).toHaveLength(1);
    expect(r.f.store.size).toBe(0);
    expect(r.trail).toContain('holdingClip:deleting:trying');
  });

  it('processingFailed: the handler throws, its error is kept and the clip deleted', async () => {
    const r = setup({
      fakes: (f) =>
        (f.process.respond = () => {
          throw { kind: 'error', message: 'transcriber down', at: 0 };
        }),
    });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'deleted',
      outcome: 'processingFailed',
      error: { message: 'transcriber down' },
      bytes: 160_696,
    });
    expect(r.events.map((e) => e.type)).not.toContain('record.processed');
    expect(r.f.store.size).toBe(0);
  });

  it('processingTimeout: aborts the handler (its AbortSignal fires) and still deletes', async () => {
    const r = setup({
      policy: { processingTimeoutMs: 20 * SEC },
      fakes: (f) => (f.process.respond = () => PENDING),
    });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    const handler = r.f.process.last;
    const startedAt = r.clock.now();
    await r.clock.advance(20 * SEC - 1);
    expect(handler.signal.aborted).toBe(false);
    expect(r.f.store.size).toBe(1);
    await r.clock.advance(1);
    expect(handler.signal.aborted).toBe(true);
    expect(r.output()).toMatchObject({
      final: 'deleted',
      outcome: 'processingTimeout',
      at: startedAt + 20 * SEC,
    });
    expect(r.f.store.size).toBe(0);
    // A late answer from the aborted handler changes nothing.
    handler.resolve({ at: r.clock.now() });
    await r.clock.settle();
    expect(r.output()?.outcome).toBe('processingTimeout');
  });
});

describe('recordMachine: completions', () => {
  it('applies a completion that arrives before the POST answer (matched by clientContext)', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { operationId: 'OP-1' }));
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('requesting');
    r.f.startRecord.last.resolve({ operationId: 'op-1', status: 'running', at: r.clock.now() });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed', operationId: 'op-1' });
    expect(r.f.download.calls).toHaveLength(1);
  });

  it('applies an early completion matched by operation id even without clientContext', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { clientContext: null }));
    r.f.startRecord.last.resolve({ operationId: 'op-1', status: 'running', at: r.clock.now() });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });

  it('drops an early completion that turns out to be for another operation', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { operationId: 'op-9', clientContext: null }));
    r.f.startRecord.last.resolve({ operationId: 'op-1', status: 'running', at: r.clock.now() });
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
    expect(r.actor.getSnapshot().context.early).toBeNull();
  });

  it('ignores a completion for another operation while recording', async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { operationId: 'op-2', clientContext: 'ctx-2' }));
    r.actor.send(completion(r.clock.now(), { operationId: 'op-2', status: 'failed', hasRecording: false }));
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
    expect(r.f.download.calls).toHaveLength(0);
  });

  it('ignores a non-terminal status update for its own operation', async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { status: 'running', hasRecording: false }));
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
  });

  it('ignores a duplicate completion in later states', async () => {
    const r = setup({ fakes: (f) => (f.process.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    const before = r.actor.getSnapshot();
    r.actor.send(completion(r.clock.now()));
    r.actor.send(completion(r.clock.now(), { status: 'failed', hasRecording: false }));
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toEqual(before.value);
    expect(r.f.download.calls).toHaveLength(1);
    expect(r.f.process.calls).toHaveLength(1);
    r.f.process.last.resolve({ at: r.clock.now() });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });
});

describe('recordMachine: a POST that timed out (Graph may have started the operation)', () => {
  const timedOut = (at: number) => ({ kind: 'timeout', message: 'timed out after 30000 ms', at });

  it('waits for the completion by clientContext, then downloads and deletes', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.f.startRecord.last.reject(timedOut(r.clock.now()));
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
    expect(r.actor.getSnapshot().context.outcome).toBe('requestFailed');
    r.actor.send(completion(r.clock.now(), { operationId: 'op-7' }));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed', operationId: 'op-7' });
    expect(r.output()?.error).toBeUndefined();
    expect(r.f.download.last.input.operationId).toBe('op-7');
  });

  it('takes a completion that overtook the timed-out POST as its answer', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { operationId: 'op-7' }));
    await r.clock.settle();
    r.f.startRecord.last.reject(timedOut(r.clock.now()));
    await r.clock.settle();
    expect(r.trail.slice(0, 3)).toEqual(['requesting', 'completed', 'holdingClip:downloading']);
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed', operationId: 'op-7' });
  });

  it('an overtaking failed completion ends it operationFailed', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(
      completion(r.clock.now(), {
        operationId: 'op-7',
        status: 'failed',
        completionReason: 'initialSilenceTimeout',
        recordingLocation: null,
        hasRecording: false,
      }),
    );
    r.f.startRecord.last.reject(timedOut(r.clock.now()));
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'operationFailed',
      completionReason: 'initialSilenceTimeout',
    });
    expect(r.f.download.calls).toHaveLength(0);
  });

  it('no completion by the deadline: failed requestFailed, with the timeout error', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.advance(30 * SEC);
    r.f.startRecord.last.reject(timedOut(r.clock.now()));
    await r.clock.advance(WINDOW);
    expect(r.doneAt()).toBe(r.t0 + WINDOW);
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'requestFailed',
      error: { kind: 'timeout' },
    });
  });
});

describe('recordMachine: time', () => {
  it('completionWindowMs follows the options and defaults (5 s each, beep 1 s, prompt estimate)', () => {
    const p = DEFAULT_RECORD_POLICY;
    expect(completionWindowMs({}, p)).toBe((1 + 5 + 5 + 5) * SEC + 30 * SEC);
    expect(completionWindowMs(OPTIONS, p)).toBe(WINDOW);
    expect(completionWindowMs({ ...OPTIONS, playBeep: false, prompts: [{}] }, p)).toBe(
      (30 + 3 + 10 + 2) * SEC + 30 * SEC,
    );
  });

  it('completionTimeout fires at exactly request time + the computed window', async () => {
    const r = setup();
    await r.clock.settle();
    await r.clock.advance(WINDOW - 1);
    expect(r.actor.getSnapshot().value).toBe('recording');
    await r.clock.advance(1);
    expect(r.doneAt()).toBe(r.t0 + WINDOW);
    expect(r.output()).toMatchObject({ final: 'failed', outcome: 'completionTimeout', at: r.t0 + WINDOW });
    expect(r.events.at(-1)).toMatchObject({ type: 'record.failed', outcome: 'completionTimeout' });
  });

  it('CALL_ENDED while recording: failed callEnded after the grace', async () => {
    const r = setup({ options: { ...OPTIONS, maxRecordDurationInSeconds: 120 } });
    await r.clock.settle();
    await r.clock.advance(5 * SEC);
    r.actor.send({ type: 'CALL_ENDED', at: r.clock.now() });
    await r.clock.advance(10 * SEC - 1);
    expect(r.actor.getSnapshot().value).toBe('recording');
    await r.clock.advance(1);
    expect(r.output()).toMatchObject({ final: 'failed', outcome: 'callEnded', at: r.t0 + 15 * SEC });
  });

  it('CALL_ENDED while recording: a completion within the grace still downloads and deletes', async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send({ type: 'CALL_ENDED', at: r.clock.now() });
    await r.clock.advance(9 * SEC);
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });

  it('CALL_ENDED never extends the completion deadline', async () => {
    const r = setup();
    await r.clock.settle();
    await r.clock.advance(WINDOW - 2 * SEC);
    r.actor.send({ type: 'CALL_ENDED', at: r.clock.now() });
    await r.clock.advance(2 * SEC);
    expect(r.output()).toMatchObject({ outcome: 'completionTimeout', at: r.t0 + WINDOW });
  });

  it('CALL_ENDED while requesting: after the answer, waits only the grace from the call end', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send({ type: 'CALL_ENDED', at: r.clock.now() });
    await r.clock.advance(4 * SEC);
    r.f.startRecord.last.resolve({ operationId: 'op-1', status: 'running', at: r.clock.now() });
    await r.clock.settle();
    expect(r.actor.getSnapshot().value).toBe('recording');
    await r.clock.advance(6 * SEC);
    expect(r.output()).toMatchObject({ outcome: 'callEnded', at: r.t0 + 10 * SEC });
  });

  it('CALL_ENDED while processing changes nothing: the handler finishes and the clip is deleted', async () => {
    const r = setup({ fakes: (f) => (f.process.respond = () => PENDING) });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    r.actor.send({ type: 'CALL_ENDED', at: r.clock.now() });
    await r.clock.advance(30 * SEC);
    expect(r.actor.getSnapshot().matches({ holdingClip: 'processing' })).toBe(true);
    r.f.process.last.resolve({ at: r.clock.now() });
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });

  it('retries a failing delete with capped backoff until it succeeds', async () => {
    let failures = 6;
    const r = setup({
      fakes: (f, clock) => {
        const ok = f.del.respond;
        f.del.respond = (input, call) => {
          if (failures-- > 0) throw { kind: 'error', message: 'EBUSY', at: clock.now() };
          return ok(input, call);
        };
      },
    });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.runUntil(r.done, 10 * MIN);
    const first = r.f.del.times[0] ?? 0;
    expect(r.f.del.times.map((t) => (t - first) / SEC)).toEqual([0, 5, 15, 35, 75, 135, 195]);
    expect(r.events.filter((e) => e.type === 'record.deleteFailed')).toHaveLength(6);
    expect(r.events.find((e) => e.type === 'record.deleteFailed')).toMatchObject({
      attempt: 1,
      error: { message: 'EBUSY' },
    });
    expect(r.output()).toMatchObject({ final: 'deleted', outcome: 'processed', at: first + 195 * SEC });
    expect(r.f.store.size).toBe(0);
  });
});

describe('recordMachine: persistence', () => {
  it('a persisted snapshot is small JSON and holds no token, even one smuggled into a completion', async () => {
    const r = setup({ fakes: (f) => (f.startRecord.respond = () => PENDING) });
    await r.clock.settle();
    // The runtime strips tokens; a careless sender's extra field must still not reach context.
    r.actor.send({ ...completion(r.clock.now()), recordingAccessToken: 'SECRET-TOKEN-1' } as never);
    const early = JSON.stringify(r.actor.getPersistedSnapshot());
    expect(early).not.toContain('SECRET-TOKEN-1');
    r.f.process.respond = () => PENDING;
    r.f.startRecord.last.resolve({ operationId: 'op-1', status: 'running', at: r.clock.now() });
    await r.clock.settle();
    const json = JSON.stringify(r.actor.getPersistedSnapshot());
    expect(JSON.parse(json)).toMatchObject({ value: { holdingClip: { processing: 'running' } } });
    expect(json).not.toContain('SECRET-TOKEN-1');
    expect(json.length).toBeLessThan(4096);
  });

  it('RESUME after a restore re-arms the completion timeout at the original deadline', async () => {
    const r = setup();
    await r.clock.settle();
    await r.clock.advance(20 * SEC);
    const persisted = r.actor.getPersistedSnapshot();
    r.actor.stop();

    const clock = r.clock;
    const restored = createActor(r.machine, { clock, snapshot: persisted, input: r.input }).start();
    let doneAt: number | undefined;
    restored.subscribe({ complete: () => (doneAt = clock.now()) });
    restored.send({ type: 'RESUME', at: clock.now() });
    await clock.advance(WINDOW);
    expect(doneAt).toBe(r.t0 + WINDOW);
    expect(restored.getSnapshot().output).toMatchObject({ outcome: 'completionTimeout' });
  });

  it('without RESUME a restored record would wait forever (timers are not persisted)', async () => {
    const r = setup();
    await r.clock.settle();
    const persisted = r.actor.getPersistedSnapshot();
    r.actor.stop();
    const restored = createActor(r.machine, { clock: r.clock, snapshot: persisted, input: r.input }).start();
    await r.clock.advance(10 * MIN);
    expect(restored.getSnapshot().value).toBe('recording');
    restored.stop();
  });

  it('RESUME in a delete backoff retries at once', async () => {
    const r = setup({
      fakes: (f, clock) =>
        (f.del.respond = () => {
          throw { kind: 'error', message: 'EBUSY', at: clock.now() };
        }),
    });
    await r.clock.settle();
    r.actor.send(completion(r.clock.now()));
    await r.clock.settle();
    expect(r.actor.getSnapshot().matches({ holdingClip: { deleting: 'waiting' } })).toBe(true);
    const persisted = r.actor.getPersistedSnapshot();
    r.actor.stop();
    const f2 = recordFakes(r.clock);
    const restored = createActor(providedRecord(f2), {
      clock: r.clock,
      snapshot: persisted,
      input: r.input,
    }).start();
    restored.send({ type: 'RESUME', at: r.clock.now() });
    await r.clock.settle();
    expect(f2.del.calls).toHaveLength(1);
    expect(restored.getSnapshot().value).toBe('deleted');
  });
});

describe('recordMachine: defaults and policy', () => {
  it('unprovided actors fail with a clear message instead of crashing', async () => {
    const clock = new SimulatedClock();
    const actor = createActor(recordMachine, {
      clock,
      input: { callId: 'c', recordId: 'r', clientContext: 'x', options: {}, at: 0, storeKey: 'k' },
    }).start();
    await clock.settle();
    expect(actor.getSnapshot().output).toMatchObject({
      final: 'failed',
      outcome: 'requestFailed',
      error: { message: expect.stringMatching(/startRecord' is not provided/) },
    });
  });

  it('resolveRecordPolicy fills defaults and rejects nonsense', () => {
    expect(resolveRecordPolicy({ callEndGraceMs: 1 })).toEqual({
      ...DEFAULT_RECORD_POLICY,
      callEndGraceMs: 1,
    });
    expect(() => resolveRecordPolicy({ processingTimeoutMs: 0 })).toThrow(/processingTimeoutMs/);
    expect(() => resolveRecordPolicy({ bogus: 1 } as never)).toThrow(/invalid record policy/);
  });
});

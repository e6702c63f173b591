import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, fromPromise } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import {
  type CallEmitted,
  type CallInput,
  type CallOutput,
  callMachine,
  DEFAULT_CALL_POLICY,
  PolicyError,
  type RecordOutput,
  recordMachine,
  resolveCallPolicy,
  retryDelay,
} from '../../src/machines/index.js';
import {
  completion,
  ended,
  FakeActor,
  HOUR,
  httpError,
  MIN,
  operationDone,
  PENDING,
  type RecordFakes,
  recordFakes,
  SEC,
} from './fakes.js';

type KeepAliveFake = FakeActor<{ callId: string }, { at: number }>;

function setup(
  opts: {
    policy?: CallInput['policy'];
    keepAlive?: (clock: SimulatedClock, fake: KeepAliveFake) => KeepAliveFake['respond'];
    hangUp?: (clock: SimulatedClock) => FakeActor<{ callId: string }, { at: number }>['respond'];
    cancel?: (
      clock: SimulatedClock,
    ) => FakeActor<{ callId: string; clientContext?: string }, { at: number }>['respond'];
    record?: (f: RecordFakes, clock: SimulatedClock) => void;
    /** Replaces the record child logic entirely (to make a child crash). */
    recordLogic?: typeof recordMachine;
  } = {},
) {
  const clock = new SimulatedClock();
  const t0 = clock.now();
  const keepAlive: KeepAliveFake = new FakeActor(clock, () => ({ at: clock.now() }));
  if (opts.keepAlive) keepAlive.respond = opts.keepAlive(clock, keepAlive);
  const hangUp = new FakeActor<{ callId: string }, { at: number }>(
    clock,
    opts.hangUp?.(clock) ?? (() => ({ at: clock.now() })),
  );
  const cancel = new FakeActor<{ callId: string; clientContext?: string }, { at: number }>(
    clock,
    opts.cancel?.(clock) ?? (() => ({ at: clock.now() })),
  );
  const rf = recordFakes(clock);
  opts.record?.(rf, clock);
  const machine = callMachine.provide({
    actors: {
      keepAlive: keepAlive.logic(),
      hangUp: hangUp.logic(),
      cancelMedia: cancel.logic(),
      recordMachine: opts.recordLogic ?? recordMachine.provide({ actors: rf.actors }),
    },
  });
  const input: CallInput = { callId: 'call-1', at: t0, ...(opts.policy ? { policy: opts.policy } : {}) };
  const actor = createActor(machine, { clock, input });
  const events: CallEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  let doneAt: number | undefined;
  const errors: unknown[] = [];
  actor.subscribe({ complete: () => (doneAt = clock.now()), error: (e) => errors.push(e) });
  actor.start();
  return {
    clock,
    t0,
    actor,
    machine,
    input,
    keepAlive,
    hangUp,
    cancel,
    rf,
    events,
    errors,
    output: () => actor.getSnapshot().output as CallOutput | undefined,
    done: () => actor.getSnapshot().status === 'done',
    doneAt: () => doneAt,
    child: (id: string) => (actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)[id],
    ofType: <T extends CallEmitted['type']>(type: T) =>
      events.filter((e): e is Extract<CallEmitted, { type: T }> => e.type === type),
  };
}

const recordEvent = (at: number, over: Record<string, unknown> = {}) => ({
  type: 'RECORD' as const,
  at,
  recordId: 'rec-1',
  clientContext: 'ctx-1',
  storeKey: 'call-1-rec-1',
  options: { maxRecordDurationInSeconds: 10 },
  ...over,
});

describe('callMachine: keepAlive', () => {
  it('24 h of successes: exactly 96 keepAlives, each at start + k * 15 min', async () => {
    const c = setup();
    await c.clock.advance(24 * HOUR);
    expect(c.keepAlive.times).toEqual(Array.from({ length: 96 }, (_, k) => c.t0 + (k + 1) * 15 * MIN));
    expect(c.keepAlive.last.input).toEqual({ callId: 'call-1' });
    const sent = c.ofType('keepAlive.sent');
    expect(sent).toHaveLength(96);
    expect(sent.at(-1)).toEqual({ type: 'keepAlive.sent', at: c.t0 + 24 * HOUR, count: 96 });
    const ctx = c.actor.getSnapshot().context;
    expect(ctx).toMatchObject({
      keepAlivesSent: 96,
      lastSuccessAt: c.t0 + 24 * HOUR,
      deadlineAt: c.t0 + 24 * HOUR + 45 * MIN,
      nextKeepAliveAt: c.t0 + 24 * HOUR + 15 * MIN,
    });
    expect(c.actor.getSnapshot().value).toEqual({ established: 'active' });
    expect(c.clock.pendingTimers).toBe(1);
  });

  it('404: ends notFound at once', async () => {
    const c = setup({ keepAlive: (clock) => () => Promise.reject(httpError(404, clock.now())) });
    await c.clock.advance(15 * MIN);
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'notFound', endedAt: c.t0 + 15 * MIN });
    expect(c.doneAt()).toBe(c.t0 + 15 * MIN);
    expect(c.keepAlive.calls).toHaveLength(1);
    expect(c.ofType('call.ended')).toEqual([{ type: 'call.ended', reason: 'notFound' }]);
    expect(c.clock.pendingTimers).toBe(0);
  });

  it('transient errors with Retry-After 30 s are retried every 30 s; a success keeps the call', async () => {
    let failures = 5;
    const c = setup({
      keepAlive: (clock) => () => {
        if (failures-- > 0) throw httpError(429, clock.now(), { retryAfterMs: 30 * SEC });
        return { at: clock.now() };
      },
    });
    await c.clock.advance(20 * MIN);
    const s = c.t0 + 15 * MIN;
    expect(c.keepAlive.times).toEqual([0, 1, 2, 3, 4, 5].map((k) => s + k * 30 * SEC));
    expect(c.ofType('keepAlive.failed')).toHaveLength(5);
    expect(c.ofType('keepAlive.failed')[0]).toEqual({
      type: 'keepAlive.failed',
      status: 429,
      code: '429',
      retryInMs: 30 * SEC,
    });
    const ok = s + 150 * SEC;
    expect(c.actor.getSnapshot().context).toMatchObject({
      failures: 0,
      lastError: null,
      lastSuccessAt: ok,
      deadlineAt: ok + 45 * MIN,
      nextKeepAliveAt: ok + 15 * MIN,
    });
    // The cadence now counts from the late success.
    await c.clock.advance(ok + 15 * MIN - c.clock.now());
    expect(c.keepAlive.times.at(-1)).toBe(ok + 15 * MIN);
    expect(c.done()).toBe(false);
  });

  it('errors until the deadline: ends expired at exactly start + 45 min; last retry inside the margin', async () => {
    const c = setup({
      keepAlive: (clock) => () => Promise.reject(httpError(503, clock.now(), { retryAfterMs: 30 * SEC })),
    });
    await c.clock.runUntil(c.done, 2 * HOUR);
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'expired', endedAt: c.t0 + 45 * MIN });
    expect(c.doneAt()).toBe(c.t0 + 45 * MIN);
    const last = c.keepAlive.times.at(-1) ?? Number.POSITIVE_INFINITY;
    expect(last).toBe(c.t0 + 45 * MIN - 30 * SEC);
    expect(c.keepAlive.calls).toHaveLength(60); // 15:00, 15:30, ..., 44:30
    expect(c.ofType('keepAlive.failed').at(-1)?.retryInMs).toBeNull();
  });

  it('errors without Retry-After back off exponentially with jitter, capped, and inside the margin', async () => {
    const c = setup({ keepAlive: (clock) => () => Promise.reject(httpError(500, clock.now())) });
    await c.clock.runUntil(c.done, 2 * HOUR);
    expect(c.output()?.reason).toBe('expired');
    expect(c.doneAt()).toBe(c.t0 + 45 * MIN);
    const t = c.keepAlive.times;
    const gaps = t.slice(1).map((x, i) => x - (t[i] ?? 0));
    // 5 s doubling, each times a jitter in [0.5, 1), at most 5 min, the last one clamped to the margin.
    for (const [i, gap] of gaps.slice(0, 5).entries()) {
      expect(gap).toBeGreaterThanOrEqual(2.5 * SEC * 2 ** i);
      expect(gap).toBeLessThan(5 * SEC * 2 ** i);
    }
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(5 * MIN);
    expect(t.at(-1)).toBeLessThanOrEqual(c.t0 + 45 * MIN - 30 * SEC);
    expect(new Set(gaps.slice(0, 5)).size).toBe(5);
  });

  it('a keepAlive that never answers ends expired at exactly the deadline (not 45 min after it was sent)', async () => {
    const c = setup({ keepAlive: () => () => PENDING });
    await c.clock.runUntil(c.done, 3 * HOUR);
    expect(c.doneAt()).toBe(c.t0 + 45 * MIN);
    expect(c.keepAlive.last.signal.aborted).toBe(true);
  });

  it('retryDelay is deterministic per call and failure count, and honours the margin', () => {
    const ctx = { callId: 'call-1', policy: DEFAULT_CALL_POLICY, deadlineAt: 45 * MIN };
    const a = retryDelay(ctx, 1, {}, 15 * MIN);
    expect(retryDelay(ctx, 1, {}, 15 * MIN)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(2500);
    expect(a).toBeLessThan(5000);
    const spread = new Set(
      ['a', 'b', 'c', 'd', 'e'].map((id) => retryDelay({ ...ctx, callId: id }, 3, {}, 0)),
    );
    expect(spread.size).toBeGreaterThan(1);
    expect(retryDelay(ctx, 30, {}, 0)).toBeLessThanOrEqual(5 * MIN);
    expect(retryDelay(ctx, 1, { retryAfterMs: 10 * MIN }, 40 * MIN)).toBe(4.5 * MIN);
    expect(retryDelay(ctx, 1, { retryAfterMs: 1000 }, 44 * MIN + 30 * SEC)).toBeNull();
  });
});

describe('callMachine: policy', () => {
  it('accepts intervals inside 15..45 min and throws a clear error outside', () => {
    expect(resolveCallPolicy({ keepAliveIntervalMs: 15 * MIN }).keepAliveIntervalMs).toBe(15 * MIN);
    expect(resolveCallPolicy({ keepAliveIntervalMs: 44 * MIN }).keepAliveIntervalMs).toBe(44 * MIN);
    expect(() => resolveCallPolicy({ keepAliveIntervalMs: 15 * MIN - 1 })).toThrow(PolicyError);
    expect(() => resolveCallPolicy({ keepAliveIntervalMs: 10 * MIN })).toThrow(
      /keepAliveIntervalMs must be within 15\.\.45 minutes/,
    );
    expect(() => resolveCallPolicy({ keepAliveIntervalMs: 46 * MIN })).toThrow(/15\.\.45 minutes/);
    expect(() => resolveCallPolicy({ keepAliveDeadlineMs: 60 * MIN })).toThrow(/45 minutes/);
  });

  it('calls with the same settings share one frozen policy; other settings get their own', () => {
    const start = (callId: string, policy?: { keepAliveIntervalMs: number }) =>
      createActor(callMachine, {
        clock: new SimulatedClock(),
        input: { callId, at: 0, ...(policy ? { policy } : {}) },
      }).start();
    const a = start('a').getSnapshot().context.policy;
    const b = start('b').getSnapshot().context.policy;
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    const c = start('c', { keepAliveIntervalMs: 20 * MIN }).getSnapshot().context.policy;
    expect(c).not.toBe(a);
    expect(c.keepAliveIntervalMs).toBe(20 * MIN);
    // A bad setting between two good ones is still refused, and the good ones still resolve.
    expect(() => resolveCallPolicy({ keepAliveIntervalMs: 10 * MIN })).toThrow(PolicyError);
    expect(start('d', { keepAliveIntervalMs: 20 * MIN }).getSnapshot().context.policy).toBe(c);
    expect(start('e').getSnapshot().context.policy.keepAliveIntervalMs).toBe(a.keepAliveIntervalMs);
  });

  it('an actor with a bad interval errors (observed) instead of running', () => {
    const actor = createActor(callMachine, {
      clock: new SimulatedClock(),
      input: { callId: 'c', at: 0, policy: { keepAliveIntervalMs: MIN } },
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(String(errors[0])).toMatch(/keepAliveIntervalMs must be within 15\.\.45 minutes/);
  });

  it('allowCustomIntervals lifts the 15..45 rule (wall-clock demos), but the interval stays under the deadline', async () => {
    const policy = { keepAliveIntervalMs: MIN, keepAliveDeadlineMs: 3 * MIN, allowCustomIntervals: true };
    expect(resolveCallPolicy(policy)).toMatchObject(policy);
    expect(() => resolveCallPolicy({ ...policy, keepAliveIntervalMs: 3 * MIN })).toThrow(PolicyError);
    const c = setup({ policy });
    await c.clock.advance(3 * MIN);
    expect(c.keepAlive.times).toEqual([1, 2, 3].map((k) => c.t0 + k * MIN));
  });

  it('a 30-min interval sends keepAlives every 30 min', async () => {
    const c = setup({ policy: { keepAliveIntervalMs: 30 * MIN } });
    await c.clock.advance(2 * HOUR);
    expect(c.keepAlive.times).toEqual([1, 2, 3, 4].map((k) => c.t0 + k * 30 * MIN));
  });
});

describe('callMachine: hang up and termination', () => {
  it('HANG_UP: DELETE succeeds -> ended hungUp', async () => {
    const c = setup();
    await c.clock.advance(5 * MIN);
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.hangUp.last.input).toEqual({ callId: 'call-1' });
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'hungUp', endedAt: c.t0 + 5 * MIN });
    expect(c.ofType('call.ended')).toEqual([{ type: 'call.ended', reason: 'hungUp' }]);
  });

  it('HANG_UP: 404 means already gone -> ended hungUp', async () => {
    const c = setup({ hangUp: (clock) => () => Promise.reject(httpError(404, clock.now())) });
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.output()?.reason).toBe('hungUp');
  });

  it('HANG_UP: 500 -> back to active with lastError, keepAlives go on', async () => {
    const c = setup({ hangUp: (clock) => () => Promise.reject(httpError(500, clock.now())) });
    await c.clock.advance(MIN);
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.actor.getSnapshot().value).toEqual({ established: 'active' });
    expect(c.actor.getSnapshot().context.lastError).toMatchObject({ status: 500 });
    expect(c.ofType('call.hangUpFailed')).toEqual([{ type: 'call.hangUpFailed', status: 500, code: '500' }]);
    await c.clock.advance(15 * MIN);
    expect(c.keepAlive.times).toEqual([c.t0 + 15 * MIN]);
  });

  it('HANG_UP failing while retrying goes back to retryWait: the retry keeps its Retry-After time', async () => {
    const c = setup({
      keepAlive: (clock) => () => Promise.reject(httpError(503, clock.now(), { retryAfterMs: 5 * MIN })),
      hangUp: (clock) => () => Promise.reject(httpError(403, clock.now())),
    });
    await c.clock.advance(15 * MIN);
    expect(c.actor.getSnapshot().value).toEqual({ established: 'retryWait' });
    await c.clock.advance(MIN);
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.actor.getSnapshot().value).toEqual({ established: 'retryWait' });
    expect(c.ofType('call.hangUpFailed')).toEqual([{ type: 'call.hangUpFailed', status: 403, code: '403' }]);
    // Not at once (which an overdue `active` would do): at 15 + 5 min, as Graph asked.
    await c.clock.advance(5 * MIN);
    expect(c.keepAlive.times).toEqual([c.t0 + 15 * MIN, c.t0 + 20 * MIN]);
  });

  it('HANG_UP while a keepAlive is in flight aborts it', async () => {
    const c = setup({ keepAlive: () => () => PENDING });
    await c.clock.advance(15 * MIN);
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.keepAlive.last.signal.aborted).toBe(true);
    expect(c.output()?.reason).toBe('hungUp');
  });

  it('Graph ends the call (notification) while established, with the time of the notification', async () => {
    const c = setup();
    await c.clock.advance(20 * MIN);
    c.actor.send(ended(c.clock.now(), { code: 200, subcode: 5001 }));
    await c.clock.settle();
    expect(c.output()).toEqual({
      callId: 'call-1',
      reason: 'terminated',
      endedAt: c.t0 + 20 * MIN,
      resultInfo: { code: 200, subcode: 5001 },
    });
    expect(c.actor.getSnapshot().context.end.resultInfo).toEqual({ code: 200, subcode: 5001 });
  });

  it('Graph ends the call (notification) while hanging up wins', async () => {
    const c = setup({ hangUp: () => () => PENDING });
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.actor.getSnapshot().value).toBe('terminating');
    c.actor.send(ended(c.clock.now()));
    await c.clock.settle();
    expect(c.output()?.reason).toBe('terminated');
    expect(c.hangUp.last.signal.aborted).toBe(true);
  });

  it('Graph ends the call (notification) while retrying ends the call', async () => {
    const c = setup({ keepAlive: (clock) => () => Promise.reject(httpError(503, clock.now())) });
    await c.clock.advance(15 * MIN);
    expect(c.actor.getSnapshot().value).toEqual({ established: 'retryWait' });
    c.actor.send(ended(c.clock.now()));
    await c.clock.settle();
    expect(c.output()?.reason).toBe('terminated');
    expect(c.clock.pendingTimers).toBe(0);
  });
});

describe('callMachine: records', () => {
  it('RECORD spawns a record child that completes; the call lists it and emits its output', async () => {
    const c = setup();
    await c.clock.advance(MIN);
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    const child = c.child('rec-1');
    expect(child?.getSnapshot().value).toBe('recording');
    expect(c.rf.startRecord.last.input).toMatchObject({ callId: 'call-1', clientContext: 'ctx-1' });
    // The child told the call its operation id: completions are routed by it.
    expect(c.actor.getSnapshot().context.records).toMatchObject({
      'rec-1': { clientContext: 'ctx-1', storeKey: 'call-1-rec-1', done: false, operationId: 'op-1' },
    });
    // The runtime sends the notification to the call, which routes it to the child.
    c.actor.send(operationDone(c.clock.now(), { clientContext: null }));
    await c.clock.settle();
    const done = c.ofType('call.recordDone');
    expect(done).toHaveLength(1);
    expect(done[0]?.recordId).toBe('rec-1');
    expect(done[0]?.output).toMatchObject({ final: 'deleted', outcome: 'processed', recordId: 'rec-1' });
    expect(c.actor.getSnapshot().context.records['rec-1']?.done).toBe(true);
    expect(c.rf.store.size).toBe(0);
    // The call goes on, and ends cleanly.
    await c.clock.advance(15 * MIN);
    expect(c.keepAlive.calls).toHaveLength(1);
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'hungUp', endedAt: c.t0 + 16 * MIN });
  });

  it('names children rec-<n> when RECORD has no recordId, skipping taken names', async () => {
    const c = setup();
    c.actor.send(recordEvent(c.clock.now(), { recordId: 'rec-2', clientContext: 'a' }));
    c.actor.send(recordEvent(c.clock.now(), { recordId: undefined, clientContext: 'b' }));
    c.actor.send(recordEvent(c.clock.now(), { recordId: undefined, clientContext: 'c' }));
    await c.clock.settle();
    expect(Object.keys(c.actor.getSnapshot().context.records)).toEqual(['rec-2', 'rec-3', 'rec-4']);
    expect(c.child('rec-3')?.getSnapshot().context).toMatchObject({ recordId: 'rec-3' });
  });

  it('rejects a duplicate recordId and an invalid record policy without touching the first child', async () => {
    const c = setup();
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    const first = c.child('rec-1');
    c.actor.send(recordEvent(c.clock.now(), { clientContext: 'ctx-other' }));
    c.actor.send(
      recordEvent(c.clock.now(), {
        recordId: 'rec-9',
        clientContext: 'ctx-9',
        policy: { processingTimeoutMs: -1 },
      }),
    );
    await c.clock.settle();
    expect(c.child('rec-1')).toBe(first);
    expect(c.child('rec-9')).toBeUndefined();
    expect(c.ofType('call.recordRejected')).toMatchObject([
      { recordId: 'rec-1', reason: 'duplicateRecordId' },
      { recordId: 'rec-9', reason: 'invalidPolicy', message: expect.stringMatching(/processingTimeoutMs/) },
    ]);
    expect(c.rf.startRecord.calls).toHaveLength(1);
  });

  it('rejects RECORD while hanging up and while draining', async () => {
    const c = setup({ hangUp: () => () => PENDING, record: (f) => (f.process.respond = () => PENDING) });
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    c.child('rec-1')?.send(completion(c.clock.now()));
    await c.clock.settle();
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    c.actor.send(recordEvent(c.clock.now(), { recordId: 'rec-2' }));
    c.hangUp.last.resolve({ at: c.clock.now() });
    await c.clock.settle();
    expect(c.actor.getSnapshot().value).toBe('draining');
    c.actor.send(recordEvent(c.clock.now(), { recordId: 'rec-3' }));
    await c.clock.settle();
    expect(c.ofType('call.recordRejected')).toMatchObject([
      { recordId: 'rec-2', reason: 'callEnding' },
      { recordId: 'rec-3', reason: 'callEnding' },
    ]);
    expect(Object.keys(c.actor.getSnapshot().context.records)).toEqual(['rec-1']);
  });

  it('a call that ends while a child is processing drains until the child has deleted its clip', async () => {
    const c = setup({ record: (f) => (f.process.respond = () => PENDING) });
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    c.child('rec-1')?.send(completion(c.clock.now()));
    await c.clock.settle();
    expect(c.rf.store.size).toBe(1);
    // Voicemail: the caller pressed # and hung up; the terminated notification follows the completion.
    const endAt = c.clock.now();
    c.actor.send(ended(endAt));
    await c.clock.advance(30 * SEC);
    expect(c.actor.getSnapshot().value).toBe('draining');
    expect(c.ofType('call.ended')).toEqual([{ type: 'call.ended', reason: 'terminated' }]);
    expect(c.child('rec-1')?.getSnapshot().context.callEndedAt).toBe(endAt);
    expect(c.rf.process.last.signal.aborted).toBe(false);
    c.rf.process.last.resolve({ at: c.clock.now(), summary: { ok: true } });
    await c.clock.settle();
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'terminated', endedAt: endAt });
    expect(c.doneAt()).toBe(endAt + 30 * SEC);
    expect(c.ofType('call.recordDone')[0]?.output).toMatchObject({ final: 'deleted', outcome: 'processed' });
    expect(c.rf.store.size).toBe(0);
    expect(c.rf.del.calls).toHaveLength(1);
  });

  it('a recording still waiting when the call ends fails callEnded after the grace, then the call ends', async () => {
    const c = setup();
    c.actor.send(recordEvent(c.clock.now(), { options: { maxRecordDurationInSeconds: 120 } }));
    await c.clock.advance(10 * SEC);
    const endAt = c.clock.now();
    c.actor.send(ended(endAt));
    await c.clock.runUntil(c.done, HOUR);
    expect(c.doneAt()).toBe(endAt + 10 * SEC);
    expect(c.ofType('call.recordDone')[0]?.output).toMatchObject({ final: 'failed', outcome: 'callEnded' });
  });

  it('a child still downloading after DRAIN_TIMEOUT is stopped and its guard deletes the clip', async () => {
    const c = setup({
      record: (f) =>
        (f.download.respond = (input) => {
          f.store.set(input.storeKey, 1024); // partial bytes, then the host stalls
          return PENDING;
        }),
    });
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    c.child('rec-1')?.send(completion(c.clock.now()));
    await c.clock.settle();
    expect(c.rf.store.size).toBe(1);
    const endAt = c.clock.now();
    c.actor.send(ended(endAt));
    await c.clock.advance(10 * MIN - 1);
    expect(c.actor.getSnapshot().value).toBe('draining');
    expect(c.rf.store.size).toBe(1);
    await c.clock.advance(1);
    expect(c.doneAt()).toBe(endAt + 10 * MIN);
    expect(c.output()).toEqual({ callId: 'call-1', reason: 'terminated', endedAt: endAt });
    expect(c.rf.guard.cleanups).toBe(1);
    expect(c.rf.download.last.signal.aborted).toBe(true);
    expect(c.rf.store.size).toBe(0);
    expect(c.errors).toEqual([]);
  });

  it('a record child that crashes is marked done and reported with its error, and draining ends', async () => {
    const crashing = fromPromise(async () => {
      throw { kind: 'error', message: 'child blew up' };
    }) as unknown as typeof recordMachine;
    const c = setup({ recordLogic: crashing });
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    expect(c.actor.getSnapshot().context.records['rec-1']?.done).toBe(true);
    expect(c.ofType('call.recordDone')).toEqual([
      {
        type: 'call.recordDone',
        recordId: 'rec-1',
        output: undefined,
        error: { kind: 'error', message: 'child blew up' },
      },
    ]);
    expect(c.errors).toEqual([]);
    c.actor.send(ended(c.clock.now()));
    await c.clock.settle();
    expect(c.output()?.reason).toBe('terminated');
  });
});

describe('callMachine: cancelMediaProcessing', () => {
  it('CANCEL_MEDIA spawns a request with the clientContext', async () => {
    const c = setup();
    c.actor.send({ type: 'CANCEL_MEDIA', at: c.clock.now(), clientContext: 'ctx-1' });
    await c.clock.settle();
    expect(c.cancel.last.input).toEqual({ callId: 'call-1', clientContext: 'ctx-1' });
    expect(c.ofType('call.cancelMediaFailed')).toEqual([]);
    expect(c.actor.getSnapshot().status).toBe('active');
  });

  it('a failing cancel is reported and crashes nothing', async () => {
    const c = setup({ cancel: (clock) => () => Promise.reject(httpError(500, clock.now())) });
    c.actor.send({ type: 'CANCEL_MEDIA', at: c.clock.now() });
    c.actor.send({ type: 'CANCEL_MEDIA', at: c.clock.now() });
    await c.clock.settle();
    expect(c.ofType('call.cancelMediaFailed')).toEqual([
      { type: 'call.cancelMediaFailed', status: 500, code: '500' },
      { type: 'call.cancelMediaFailed', status: 500, code: '500' },
    ]);
    expect(c.errors).toEqual([]);
    await c.clock.advance(15 * MIN);
    expect(c.keepAlive.calls).toHaveLength(1);
  });
});

describe('callMachine: persistence', () => {
  it('RESUME after restoring a snapshot persisted at t=10 min fires the next keepAlive at 15 min (not 25)', async () => {
    const c = setup();
    await c.clock.advance(10 * MIN);
    const persisted = JSON.parse(JSON.stringify(c.actor.getPersistedSnapshot()));
    c.actor.stop();

    const restored = createActor(c.machine, { clock: c.clock, snapshot: persisted, input: c.input }).start();
    restored.send({ type: 'RESUME', at: c.clock.now() });
    await c.clock.advance(20 * MIN);
    expect(c.keepAlive.times).toEqual([c.t0 + 15 * MIN, c.t0 + 30 * MIN]);
    restored.stop();
  });

  it('without RESUME the restored call would sit there (what RESUME is for)', async () => {
    const c = setup();
    await c.clock.advance(10 * MIN);
    const persisted = c.actor.getPersistedSnapshot();
    c.actor.stop();
    const restored = createActor(c.machine, { clock: c.clock, snapshot: persisted, input: c.input }).start();
    await c.clock.advance(HOUR);
    expect(c.keepAlive.calls).toHaveLength(0);
    restored.stop();
  });

  it('RESUME in retryWait keeps the absolute retry time and deadline', async () => {
    const c = setup({
      keepAlive: (clock) => () => Promise.reject(httpError(429, clock.now(), { retryAfterMs: 2 * MIN })),
    });
    await c.clock.advance(16 * MIN);
    expect(c.actor.getSnapshot().value).toEqual({ established: 'retryWait' });
    const persisted = c.actor.getPersistedSnapshot();
    c.actor.stop();
    const restored = createActor(c.machine, { clock: c.clock, snapshot: persisted, input: c.input }).start();
    restored.send({ type: 'RESUME', at: c.clock.now() });
    await c.clock.advance(MIN);
    expect(c.keepAlive.times).toEqual([c.t0 + 15 * MIN, c.t0 + 17 * MIN]);
    let endedAt: number | undefined;
    restored.subscribe({ complete: () => (endedAt = c.clock.now()) });
    await c.clock.advance(HOUR);
    expect(endedAt).toBe(c.t0 + 45 * MIN);
  });

  it('RESUME reaches restored record children: a recording still times out at its own deadline', async () => {
    const c = setup();
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.advance(20 * SEC);
    expect(c.child('rec-1')?.getSnapshot().value).toBe('recording');
    const persisted = JSON.parse(JSON.stringify(c.actor.getPersistedSnapshot()));
    c.actor.stop();
    const restored = createActor(c.machine, { clock: c.clock, snapshot: persisted, input: c.input });
    const done: Array<{ at: number; output: RecordOutput | undefined }> = [];
    restored.on('call.recordDone', (e) => done.push({ at: c.clock.now(), output: e.output }));
    restored.start();
    restored.send({ type: 'RESUME', at: c.clock.now() });
    await c.clock.advance(2 * MIN);
    // 1 + 5 + 10 + 5 s of options + 30 s margin after the request at t0
    expect(done).toEqual([
      { at: c.t0 + 51 * SEC, output: expect.objectContaining({ outcome: 'completionTimeout' }) },
    ]);
    restored.stop();
  });

  it('a persisted call with a record child is plain JSON', async () => {
    const c = setup();
    c.actor.send(recordEvent(c.clock.now()));
    await c.clock.settle();
    const json = JSON.stringify(c.actor.getPersistedSnapshot());
    expect(JSON.parse(json).children['rec-1']).toMatchObject({ src: 'recordMachine' });
    expect(json.length).toBeLessThan(8192);
  });
});

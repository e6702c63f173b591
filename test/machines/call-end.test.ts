/**
 * How a call ends, told truthfully (issue 13, items 2 and 8): Graph's own
 * keepAlive expiry reads `expired`, every end carries Graph's resultInfo in
 * whatever spelling it came, and a refused keepAlive ends the call at once.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { type CallEmitted, type CallOutput, callMachine, recordMachine } from '../../src/machines/index.js';
import { ended, FakeActor, httpError, MIN, PENDING, recordFakes, SEC } from './fakes.js';

function setup(keepAlive?: (clock: SimulatedClock) => () => unknown) {
  const clock = new SimulatedClock();
  const t0 = clock.now();
  const ka = new FakeActor<{ callId: string }, { at: number }>(
    clock,
    (keepAlive?.(clock) as () => { at: number }) ?? (() => ({ at: clock.now() })),
  );
  const hangUp = new FakeActor<{ callId: string }, { at: number }>(clock, () => PENDING);
  const machine = callMachine.provide({
    actors: {
      keepAlive: ka.logic(),
      hangUp: hangUp.logic(),
      cancelMedia: new FakeActor<{ callId: string }, { at: number }>(clock).logic(),
      recordMachine: recordMachine.provide({ actors: recordFakes(clock).actors }),
    },
  });
  const actor = createActor(machine, { clock, input: { callId: 'call-1', at: t0 } });
  const events: CallEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  actor.start();
  return {
    clock,
    t0,
    actor,
    ka,
    hangUp,
    events,
    output: () => actor.getSnapshot().output as CallOutput | undefined,
    terminate: (resultInfo: unknown) => actor.send(ended(clock.now(), resultInfo as never)),
  };
}

const EXPIRY = { code: 408, subcode: 8537, message: 'Keep Alive timeout, cleaned up inactive call.' };

describe('callMachine: Graph ends the call', () => {
  it.each([
    ['numbers', EXPIRY],
    ['numeric strings', { ...EXPIRY, code: '408', subcode: '8537' }],
    ['subCode spelling', { code: 408, subCode: 8537, message: EXPIRY.message }],
    ['subCode as a string', { code: '408', subCode: '8537', message: EXPIRY.message }],
  ])('408/8537 as %s: ends expired with the resultInfo as numbers', async (_, info) => {
    const c = setup();
    await c.clock.advance(20 * MIN);
    c.terminate(info);
    await c.clock.settle();
    expect(c.output()).toEqual({
      callId: 'call-1',
      reason: 'expired',
      endedAt: c.t0 + 20 * MIN,
      resultInfo: EXPIRY,
    });
    expect(c.events.filter((e) => e.type === 'call.ended')).toEqual([
      { type: 'call.ended', reason: 'expired', resultInfo: EXPIRY },
    ]);
  });

  it('200/5001 (the caller hung up) stays terminated and carries its resultInfo', async () => {
    const c = setup();
    c.terminate({ code: '200', subCode: '5001', message: 'The conversation has ended.', extra: 'x' });
    await c.clock.settle();
    expect(c.output()).toEqual({
      callId: 'call-1',
      reason: 'terminated',
      endedAt: c.t0,
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    });
  });

  it('an end with no resultInfo (or nothing readable in it) has no resultInfo in its output', async () => {
    for (const info of [null, undefined, { code: 'abc' }, 'oops']) {
      const c = setup();
      c.terminate(info);
      await c.clock.settle();
      expect(c.output()).toEqual({ callId: 'call-1', reason: 'terminated', endedAt: c.t0 });
    }
  });

  it('408/8537 while hanging up: Graph had already expired the call', async () => {
    const c = setup();
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    c.terminate(EXPIRY);
    await c.clock.settle();
    expect(c.output()?.reason).toBe('expired');
    expect(c.output()?.resultInfo).toEqual(EXPIRY);
  });

  it.each([
    [{ code: '200', subcode: '7000', message: 'The conversation has ended by bot.' }, 'hungUp'],
    [{ code: 200, subCode: 10550 }, 'hungUp'],
    [{ code: 200, subcode: 5001 }, 'terminated'],
  ])('while hanging up, %o (the notification beat the 204) ends %s', async (info, reason) => {
    const c = setup();
    c.actor.send({ type: 'HANG_UP', at: c.clock.now() });
    await c.clock.settle();
    c.terminate(info);
    await c.clock.settle();
    expect(c.output()?.reason).toBe(reason);
  });

  it('200/7000 outside a hang-up of ours stays terminated', async () => {
    const c = setup();
    c.terminate({ code: 200, subcode: 7000 });
    await c.clock.settle();
    expect(c.output()?.reason).toBe('terminated');
  });

  it('408 with another subcode is not a keepAlive expiry', async () => {
    const c = setup();
    c.terminate({ code: 408, subcode: 1106 });
    await c.clock.settle();
    expect(c.output()).toMatchObject({ reason: 'terminated', resultInfo: { code: 408, subcode: 1106 } });
  });
});

describe("callMachine: Graph's end notification after the call ended here", () => {
  it('while records drain, the first resultInfo goes in the output; the reason stays', async () => {
    const clock = new SimulatedClock();
    const t0 = clock.now();
    const rf = recordFakes(clock);
    rf.process.respond = () => PENDING;
    const machine = callMachine.provide({
      actors: {
        keepAlive: new FakeActor<{ callId: string }, { at: number }>(clock, () =>
          Promise.reject(httpError(404, clock.now())),
        ).logic(),
        hangUp: new FakeActor<{ callId: string }, { at: number }>(clock).logic(),
        cancelMedia: new FakeActor<{ callId: string }, { at: number }>(clock).logic(),
        recordMachine: recordMachine.provide({ actors: rf.actors }),
      },
    });
    const actor = createActor(machine, { clock, input: { callId: 'call-1', at: t0 } }).start();
    actor.send({
      type: 'RECORD',
      at: t0,
      recordId: 'rec-1',
      clientContext: 'ctx-1',
      storeKey: 'k',
      options: { maxRecordDurationInSeconds: 10 },
      policy: { processingTimeoutMs: 60 * MIN },
    });
    await clock.settle();
    const rec = actor.getSnapshot().children['rec-1'] as unknown as { send(e: unknown): void };
    rec.send({
      type: 'OPERATION_COMPLETED',
      at: clock.now(),
      operationId: 'op-1',
      clientContext: 'ctx-1',
      status: 'completed',
      recordingLocation: 'https://media.example/op-1',
      hasRecording: true,
    });
    await clock.advance(15 * MIN);
    expect(actor.getSnapshot().value).toBe('draining');
    actor.send(ended(clock.now(), { code: '200', subCode: '5001' } as never));
    actor.send(ended(clock.now(), EXPIRY));
    rf.process.last.resolve({ at: clock.now() });
    await clock.settle();
    expect(actor.getSnapshot().output).toEqual({
      callId: 'call-1',
      reason: 'notFound',
      endedAt: t0 + 15 * MIN,
      resultInfo: { code: 200, subcode: 5001 },
    });
  });
});

describe('callMachine: a refused keepAlive', () => {
  it.each([400, 401, 403, 405, 409])(
    '%i: ends keepAliveRefused at once, with the refused request',
    async (status) => {
      const err = httpError(status, 0, {
        code: status === 403 ? 'Forbidden' : String(status),
        requestId: 'req-1',
        clientRequestId: 'client-1',
      });
      const c = setup((clock) => () => Promise.reject({ ...err, at: clock.now() }));
      await c.clock.advance(60 * MIN);
      const error = { ...err, at: c.t0 + 15 * MIN };
      expect(c.output()).toEqual({
        callId: 'call-1',
        reason: 'keepAliveRefused',
        endedAt: c.t0 + 15 * MIN,
        error,
      });
      // One attempt, no retry.
      expect(c.ka.calls).toHaveLength(1);
      expect(c.events).toEqual([
        {
          type: 'keepAlive.refused',
          status,
          code: err.code,
          requestId: 'req-1',
          clientRequestId: 'client-1',
          message: err.message,
        },
        { type: 'call.ended', reason: 'keepAliveRefused' },
      ]);
      expect(c.clock.pendingTimers).toBe(0);
    },
  );

  it.each([404, 408, 429, 500, 503])('%i is not a refusal', async (status) => {
    const c = setup((clock) => () => Promise.reject(httpError(status, clock.now())));
    await c.clock.advance(15 * MIN + SEC);
    expect(c.events.some((e) => e.type === 'keepAlive.refused')).toBe(false);
    expect(c.output()?.reason ?? 'live').toBe(status === 404 ? 'notFound' : 'live');
  });

  it('a refusal after transient failures still ends at once', async () => {
    let n = 0;
    const c = setup((clock) => () => Promise.reject(httpError(++n < 3 ? 503 : 403, clock.now())));
    await c.clock.advance(30 * MIN);
    expect(c.ka.calls).toHaveLength(3);
    expect(c.output()).toMatchObject({ reason: 'keepAliveRefused', error: { status: 403 } });
    expect(c.output()?.endedAt).toBe(c.ka.last.at);
  });
});

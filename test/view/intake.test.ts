/**
 * The live view's intake: stream values queued by reference and folded into
 * the model when a frame is built, in order; an ending call folded at once
 * (its actor is gone soon after); the queue bounded with no frame coming.
 */
import { describe, expect, it } from 'vitest';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import type { RuntimeEvent, StateChange } from '../../src/runtime.js';
import { createViewIntake } from '../../src/view/intake.js';
import { createViewModel } from '../../src/view/model.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(max?: number, attempts = true) {
  let now = T0;
  const contexts = new Map<string, Record<string, unknown>>();
  const model = createViewModel({ now: () => now, contextOf: (id) => contexts.get(id) });
  let unreadable = 0;
  const intake = createViewIntake(model, {
    now: () => now,
    attempts,
    unreadable: () => unreadable++,
    ...(max ? { max } : {}),
  });
  const state = (callId: string, value: unknown, at = now) =>
    intake.state({ at, callId, actor: 'call', machine: 'call', value, status: 'active' } as StateChange);
  return {
    model,
    intake,
    contexts,
    state,
    get unreadable() {
      return unreadable;
    },
    set now(v: number) {
      now = v;
    },
  };
}

const attempt = (callId: string): HttpAttemptEvent => ({
  operation: 'keepAlive',
  method: 'POST',
  url: `http://g/v1.0/communications/calls/${callId}/keepAlive`,
  clientRequestId: 'x',
  attempt: 1,
  status: 200,
  durationMs: 2,
});

describe('live view intake', () => {
  it('folds queued values in the order they came, at the next frame', () => {
    const m = setup();
    m.state('a', { established: 'keepAliveDue' });
    m.state('a', { established: 'active' });
    m.state('b', { established: 'active' });
    expect(m.model.size).toBe(0); // nothing folded yet: the runtime paid a push each
    m.intake.drain();
    const snap = m.model.snapshot(T0);
    expect(snap.calls.map((c) => [c.id, c.state])).toEqual([
      ['a', 'active'],
      ['b', 'active'],
    ]);
  });

  it('stamps a request with the time it was reported, not the time it is folded', () => {
    const m = setup();
    m.intake.attempt(attempt('a'));
    m.now = T0 + 5_000;
    m.intake.drain();
    expect(m.model.snapshot(T0 + 5_000).requests.map((r) => [r.callId, r.at])).toEqual([['a', T0]]);
  });

  it('folds an ending call at once, with what came before it: its end is read while its actor is still there', () => {
    const m = setup();
    m.contexts.set('a', {
      end: { reason: 'hungUp', resultInfo: { code: 200, subcode: 5001, message: 'bye' } },
    });
    m.state('a', { established: 'active' });
    m.state('a', 'draining');
    m.contexts.delete('a'); // the runtime lets the actor go
    m.intake.event({
      at: T0,
      callId: 'a',
      actor: 'call',
      type: 'call.ended',
      reason: 'hungUp',
    } as RuntimeEvent);
    m.intake.drain();
    const row = m.model.snapshot(T0).calls[0];
    expect(row?.state).toBe('draining');
    expect(row?.ended?.reason).toBe('hungUp');
    expect(JSON.stringify(row)).toContain('5001');
  });

  it('holds at most `max` values when no frame comes: past that they are folded', () => {
    const m = setup(100);
    for (let i = 0; i < 250; i++) m.state(`c${i}`, { established: 'active' });
    // 200 folded in two batches of 100; the last 50 wait for a frame.
    expect(m.model.size).toBe(200);
    m.intake.drain();
    expect(m.model.size).toBe(250);
  });

  it('a value that throws when looked at is counted, never thrown into the runtime', () => {
    const m = setup();
    const hostile = {
      machine: 'call',
      get value(): unknown {
        throw new Error('boom');
      },
    } as unknown as StateChange;
    const hostileEvent = {
      get type(): unknown {
        throw new Error('boom');
      },
    } as unknown as RuntimeEvent;
    expect(() => m.intake.state(hostile)).not.toThrow();
    expect(() => m.intake.event(hostileEvent)).not.toThrow();
    m.state('ok', { established: 'active' });
    m.intake.drain();
    expect(m.unreadable).toBe(2);
    expect(m.model.snapshot(T0).calls.map((c) => c.id)).toEqual(['ok']);
  });

  it('a keepAlive.sent adds nothing when requests come from the adapter; without them it is the request', () => {
    for (const attempts of [true, false]) {
      const m = setup(undefined, attempts);
      m.contexts.set('a', { keepAlivesSent: 3, nextKeepAliveAt: T0 + 900_000 });
      m.state('a', { established: 'keepAliveDue' });
      m.state('a', { established: 'active' });
      m.intake.event({ at: T0, callId: 'a', actor: 'call', type: 'keepAlive.sent' } as RuntimeEvent);
      m.intake.drain();
      const snap = m.model.snapshot(T0);
      expect(snap.calls[0]?.keepAlives).toBe(3); // re-read after the state change either way
      expect(snap.requests.map((r) => r.path)).toEqual(attempts ? [] : ['/communications/calls/a/keepAlive']);
    }
  });

  it('skips and counts a value the model cannot read; the rest of the batch is folded', () => {
    const m = setup();
    m.intake.state(null as unknown as StateChange);
    m.state('ok', { established: 'active' });
    m.intake.drain();
    expect(m.unreadable).toBe(1);
    expect(m.model.snapshot(T0).calls.map((c) => c.id)).toEqual(['ok']);
  });
});

/** The live view's model: what each row says, what it never says, and how much it keeps. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent, StateChange } from '../../src/runtime.js';
import { createViewModel, safePath, stepOf } from '../../src/view/model.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function setup(limits = {}) {
  let now = T0;
  const contexts = new Map<string, Record<string, unknown>>();
  const model = createViewModel({ now: () => now, contextOf: (id) => contexts.get(id), limits });
  const state = (
    callId: string,
    value: unknown,
    at = now,
    machine: 'call' | 'record' = 'call',
    actor = 'call',
  ) => model.onState({ at, callId, actor, machine, value, status: 'active' } as StateChange);
  const event = (callId: string, type: string, rest: Record<string, unknown> = {}) =>
    model.onEvent({ at: now, callId, actor: 'call', type, ...rest } as RuntimeEvent);
  return {
    model,
    contexts,
    state,
    event,
    set now(v: number) {
      now = v;
    },
  };
}

describe('live view model', () => {
  it('lifts nested record states to the step the page names', () => {
    expect(stepOf('recording')).toBe('recording');
    expect(stepOf({ holdingClip: 'downloading' })).toBe('downloading');
    expect(stepOf({ holdingClip: { processing: 'running' } })).toBe('processing');
  });

  it('safePath reads any URL as the two replacements it is defined by', () => {
    // Everything from the first ? or #, across line breaks too (`[\s\S]`, where `.` would stop
    // at one and let a query through).
    const reference = (url: string) =>
      url.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/[?#][\s\S]*$/, '') || '/';
    const part = fc.constantFrom(
      'https',
      'HTTP',
      'x1',
      '://',
      ':/',
      'host',
      'a.b:8080',
      '/',
      '//',
      'path',
      '?',
      '#',
      'q=1',
      '',
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const url = parts.join('');
        expect(safePath(url)).toBe(reference(url));
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps only the path of a URL: no origin, no query (a recording URL may carry a signature)', () => {
    expect(safePath('https://rec.example/clips/1?sig=s3cret&token=x#f')).toBe('/clips/1');
  });

  it('fills keepAlive times from the call context and ends with Graph resultInfo', () => {
    const m = setup();
    m.contexts.set('c1', { nextKeepAliveAt: T0 + 15 * MIN, deadlineAt: T0 + 45 * MIN, keepAlivesSent: 0 });
    m.state('c1', 'active');
    m.contexts.set('c1', {
      deadlineAt: T0 + 45 * MIN,
      end: {
        reason: 'terminated',
        endedAt: T0 + MIN,
        resultInfo: { code: 200, subcode: 5001, message: 'ended' },
      },
      lastError: { status: 503, message: 'Bearer abc.def.ghi failed' },
    });
    m.state('c1', 'draining', T0 + MIN);
    const row = m.model.snapshot(T0 + MIN).calls[0];
    expect(row).toMatchObject({ id: 'c1', state: 'draining', since: T0 + MIN, deadlineAt: T0 + 45 * MIN });
    expect(row?.ended).toMatchObject({ reason: 'terminated', resultInfo: { code: 200, subcode: 5001 } });
    expect(JSON.stringify(row)).not.toContain('abc.def');
  });

  it('a notFound end says 404, not an older keepAlive error', () => {
    const m = setup();
    m.contexts.set('c1', { end: { reason: 'notFound', endedAt: T0 }, lastError: { status: 503 } });
    m.state('c1', 'draining');
    expect(m.model.snapshot(T0).calls[0]?.ended?.error).toEqual({ status: 404 });
  });

  it('drops ended calls after keepEndedMs, and the oldest beyond maxEnded', () => {
    const m = setup({ keepEndedMs: 10 * MIN, maxEnded: 2 });
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      m.contexts.set(id, { end: { reason: 'hungUp', endedAt: T0 + i * MIN } });
      m.state(id, 'ended', T0 + i * MIN);
    }
    m.state('live', 'active');
    m.model.delta(T0 + 3 * MIN);
    expect(m.model.snapshot(T0 + 3 * MIN).calls.map((c) => c.id)).toEqual(['b', 'c', 'live']);
    const later = m.model.delta(T0 + 11.5 * MIN);
    expect(later?.removed).toEqual(['b']);
    expect(m.model.snapshot(T0 + 11.5 * MIN).calls.map((c) => c.id)).toEqual(['c', 'live']);
  });

  it('keeps a bounded number of requests and records per call', () => {
    const m = setup({ maxRequests: 3, maxRecordsPerCall: 2 });
    for (let i = 0; i < 5; i++)
      m.model.onAttempt({
        operation: 'keepAlive',
        method: 'POST',
        url: `http://g/v1.0/communications/calls/c${i}/keepAlive`,
        clientRequestId: 'x',
        attempt: 1,
        status: 429,
        retryInMs: 2_000,
        durationMs: 3,
      });
    for (const r of ['rec-1', 'rec-2', 'rec-3']) m.state('c1', 'recording', T0, 'record', r);
    const snap = m.model.snapshot(T0);
    expect(snap.requests.map((r) => r.callId)).toEqual(['c2', 'c3', 'c4']);
    expect(snap.requests[0]).toMatchObject({
      status: 429,
      retryInMs: 2_000,
      path: expect.stringMatching(/^\/v1/),
    });
    expect(snap.calls[0]?.records.map((r) => r.id)).toEqual(['rec-2', 'rec-3']);
  });

  it("puts the call machine's keepAlive retry wait on the failed attempt, sent again", () => {
    const m = setup();
    const url = 'http://g/v1.0/communications/calls/c1/keepAlive';
    const attempt = {
      operation: 'keepAlive',
      method: 'POST' as const,
      url,
      clientRequestId: 'x',
      attempt: 1,
    };
    m.model.onAttempt({ ...attempt, status: 503, durationMs: 1 });
    expect(m.model.delta(T0)?.requests[0]?.retryInMs).toBeUndefined();
    m.event('c1', 'keepAlive.failed', { status: 503, retryInMs: 2_500 });
    const delta = m.model.delta(T0);
    expect(delta?.requests).toEqual([expect.objectContaining({ seq: 1, status: 503, retryInMs: 2_500 })]);
    m.model.onAttempt({ ...attempt, status: 503, durationMs: 1 });
    m.event('c1', 'keepAlive.failed', { status: 503, retryInMs: null });
    expect(m.model.snapshot(T0).requests.map((r) => r.retryInMs)).toEqual([2_500, null]);
  });

  it('tracks a record through its steps with bytes and outcome', () => {
    const m = setup();
    m.state('c1', 'requesting', T0, 'record', 'rec-1');
    m.state('c1', { holdingClip: 'downloading' }, T0 + 1, 'record', 'rec-1');
    m.event('c1', 'record.downloaded', { recordId: 'rec-1', bytes: 160_696 });
    m.state('c1', 'deleted', T0 + 2, 'record', 'rec-1');
    m.event('c1', 'call.recordDone', {
      recordId: 'rec-1',
      output: { outcome: 'processed', bytes: 160_696, completionReason: 'stopToneDetected' },
    });
    expect(m.model.snapshot(T0).calls[0]?.records[0]).toMatchObject({
      step: 'deleted',
      bytes: 160_696,
      outcome: 'processed',
      completionReason: 'stopToneDetected',
    });
  });

  it('a delta carries only what changed since the last one', () => {
    const m = setup();
    m.state('a', 'active');
    m.state('b', 'active');
    expect(m.model.delta(T0)?.calls.map((c) => c.id)).toEqual(['a', 'b']);
    expect(m.model.delta(T0)).toBeUndefined();
    m.state('b', 'keepAliveDue');
    expect(m.model.delta(T0)?.calls.map((c) => c.id)).toEqual(['b']);
  });

  it('one row per call whatever the id spelling; a call dropped and seen again gets a fresh row', () => {
    const id = '1a2b3c4d-5e6f-4d3c-9a8b-7c6d5e4f3a2b';
    const m = setup({ keepEndedMs: MIN });
    m.state(id, 'active');
    m.state(id.toUpperCase().replace(/-/g, ''), 'keepAliveDue');
    expect(m.model.snapshot(T0).calls.map((c) => [c.id, c.state])).toEqual([[id, 'keepAliveDue']]);
    // Ended by the event alone (the runtime no longer holds the actor): still pruned on time.
    m.event(id, 'call.ended', { reason: 'hungUp' });
    expect(m.model.delta(T0 + 2 * MIN)?.removed).toEqual([id.replace(/-/g, '')]);
    expect(m.model.size).toBe(0);
    m.state(id, 'active', T0 + 3 * MIN);
    expect(m.model.snapshot(T0 + 3 * MIN).calls).toEqual([
      { key: id.replace(/-/g, ''), id, state: 'active', since: T0 + 3 * MIN, records: [] },
    ]);
  });
});

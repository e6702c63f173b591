/**
 * What an established call does with its media, on simulated time with
 * fakes: completions routed to the right child by operation id or
 * clientContext (the call owns that rule now), clientContext uniqueness, the
 * serial record queue, prompts as children, and tones in sequenceId order.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECORD_POLICY } from '../../src/machines/index.js';
import { startCall } from './call-fakes.js';
import { callUpdate, ended, MIN, operationDone, PENDING, SEC } from './fakes.js';

const record = (at: number, over: Record<string, unknown> = {}) => ({
  type: 'RECORD' as const,
  at,
  recordId: 'rec-1',
  clientContext: 'ctx-1',
  storeKey: 'k-1',
  options: { maxRecordDurationInSeconds: 10 },
  ...over,
});
const prompt = (at: number, over: Record<string, unknown> = {}) => ({
  type: 'PLAY_PROMPT' as const,
  at,
  clientContext: 'p-1',
  prompts: [{ uri: 'https://media.example/hi.wav' }],
  ...over,
});

describe('callMachine: routing completions', () => {
  it('by operation id once the POST answered (the child reports it), whatever the clientContext says', async () => {
    const c = startCall();
    c.actor.send(record(c.clock.now()));
    await c.clock.settle();
    expect(c.actor.getSnapshot().context.records['rec-1']?.operationId).toBe('op-1');
    // Upper-case, dash-less id as Graph writes it in resourceUrl; no clientContext at all.
    c.actor.send(operationDone(c.clock.now(), { operationId: 'OP1', clientContext: null }));
    await c.clock.settle();
    expect(c.rf.download.calls).toHaveLength(1);
    expect(c.ofType('call.recordDone')[0]?.output).toMatchObject({ final: 'deleted', outcome: 'processed' });
  });

  it('by clientContext while the POST has not answered (the completion overtook it)', async () => {
    const c = startCall();
    c.rf.startRecord.respond = () => PENDING;
    c.actor.send(record(c.clock.now()));
    await c.clock.settle();
    c.actor.send(operationDone(c.clock.now(), { operationId: 'op-early', clientContext: 'ctx-1' }));
    await c.clock.settle();
    expect(c.actor.getSnapshot().context.records['rec-1']).toMatchObject({ operationId: 'op-early' });
    expect(c.child('rec-1')?.getSnapshot().context.early).toMatchObject({ operationId: 'op-early' });
    c.rf.startRecord.last.resolve({ operationId: 'op-early', status: 'running', at: c.clock.now() });
    await c.clock.settle();
    expect(c.rf.download.calls).toHaveLength(1);
  });

  it('an operation nobody runs: call.operationUnmatched, no child touched', async () => {
    const c = startCall();
    c.actor.send(record(c.clock.now()));
    await c.clock.settle();
    c.actor.send(operationDone(c.clock.now(), { operationId: 'op-x', clientContext: 'other' }));
    await c.clock.settle();
    expect(c.ofType('call.operationUnmatched')).toEqual([
      { type: 'call.operationUnmatched', operationId: 'op-x' },
    ]);
    expect(c.child('rec-1')?.getSnapshot().value).toBe('recording');
  });

  it('a second running record or prompt with the same clientContext is refused (Graph: unique)', async () => {
    const c = startCall();
    c.actor.send(record(c.clock.now()));
    c.actor.send(record(c.clock.now(), { recordId: 'rec-2' }));
    c.actor.send(prompt(c.clock.now(), { clientContext: 'ctx-1' }));
    await c.clock.settle();
    expect(c.ofType('call.recordRejected')).toMatchObject([
      { recordId: 'rec-2', reason: 'duplicateClientContext' },
    ]);
    expect(c.ofType('call.promptRejected')).toMatchObject([{ reason: 'duplicateClientContext' }]);
    expect(c.child('rec-2')).toBeUndefined();
  });
});

describe('callMachine: the serial record queue', () => {
  it('a record asked for while another records waits that much longer for its completion', async () => {
    const c = startCall();
    c.actor.send(record(c.clock.now()));
    await c.clock.settle();
    const first = c.actor.getSnapshot().context.records['rec-1']!.completionDeadlineAt;
    await c.clock.advance(10 * SEC);
    c.actor.send(record(c.clock.now(), { recordId: 'rec-2', clientContext: 'ctx-2' }));
    await c.clock.settle();
    const margin = DEFAULT_RECORD_POLICY.completionMarginMs;
    expect(c.child('rec-2')?.getSnapshot().context.policy.completionMarginMs).toBe(
      margin + (first - c.clock.now()),
    );
    // With barge-in it interrupts instead: no extra wait.
    c.actor.send(
      record(c.clock.now(), { recordId: 'rec-3', clientContext: 'ctx-3', options: { bargeInAllowed: true } }),
    );
    await c.clock.settle();
    expect(c.child('rec-3')?.getSnapshot().context.policy.completionMarginMs).toBe(margin);
  });
});

describe('callMachine: prompts', () => {
  it('PLAY_PROMPT spawns a prompt child; its completion is routed to it; call.promptDone', async () => {
    const c = startCall();
    c.actor.send(prompt(c.clock.now()));
    await c.clock.settle();
    expect(c.f.playPrompt.last.input).toEqual({
      callId: 'call-1',
      clientContext: 'p-1',
      prompts: [{ uri: 'https://media.example/hi.wav' }],
      loop: false,
    });
    expect(c.child('prompt-1')?.getSnapshot().value).toBe('playing');
    c.actor.send(
      operationDone(c.clock.now(), {
        odataType: 'playPromptOperation',
        operationId: 'prompt-op-1',
        clientContext: 'p-1',
        completionReason: 'unknown',
        recordingLocation: null,
        hasRecording: false,
      }),
    );
    await c.clock.settle();
    expect(c.ofType('call.promptDone')[0]?.output).toMatchObject({
      promptId: 'prompt-1',
      final: 'completed',
    });
    expect(c.actor.getSnapshot().context.prompts['prompt-1']?.done).toBe(true);
  });

  it('refused before the call is up and while it ends', async () => {
    const c = startCall({ start: 'incoming' });
    c.actor.send(prompt(c.clock.now()));
    await c.clock.settle();
    expect(c.child('prompt-1')).toBeUndefined();
    const d = startCall();
    d.f.hangUp.respond = () => PENDING;
    d.actor.send({ type: 'HANG_UP', at: d.clock.now() });
    d.actor.send(prompt(d.clock.now()));
    await d.clock.settle();
    expect(d.ofType('call.promptRejected')).toMatchObject([{ reason: 'notEstablished' }]);
  });

  it('the end of the call ends a playing (loop) prompt as canceled; the call does not wait for it', async () => {
    const c = startCall();
    c.actor.send(prompt(c.clock.now(), { loop: true }));
    await c.clock.settle();
    c.actor.send(ended(c.clock.now(), { code: 200, subcode: 5001, message: 'ended' }));
    await c.clock.settle();
    expect(c.ofType('call.promptDone')[0]?.output).toMatchObject({ final: 'canceled', reason: 'callEnded' });
    expect(c.value()).toBe('ended');
  });
});

describe('callMachine: tones', () => {
  const tone = (at: number, sequenceId: number, t = 'tone1') =>
    callUpdate(at, 'established', { sequenceId, tone: t });

  it('emitted in sequenceId order, each once: repeats and late ones are dropped', async () => {
    const c = startCall();
    for (const [seq, t] of [
      [1, 'tone1'],
      [2, 'pound'],
      [2, 'pound'],
      [1, 'tone1'],
      [4, 'star'],
      [3, 'tone3'],
    ] as const)
      c.actor.send(tone(c.clock.now(), seq, t));
    await c.clock.settle();
    expect(c.ofType('call.tone').map((e) => [e.sequenceId, e.tone])).toEqual([
      [1, 'tone1'],
      [2, 'pound'],
      [4, 'star'],
    ]);
    expect(c.actor.getSnapshot().context.seq.lastTone).toBe(4);
  });

  it('SUBSCRIBE_TONES posts subscribeToTone; its failure is reported and changes nothing', async () => {
    const c = startCall();
    c.f.subscribeToTone.respond = () => Promise.reject({ kind: 'http', status: 500, code: '9999' });
    c.actor.send({ type: 'SUBSCRIBE_TONES', at: c.clock.now(), clientContext: 'tones' });
    await c.clock.settle();
    expect(c.f.subscribeToTone.last.input).toEqual({ callId: 'call-1', clientContext: 'tones' });
    expect(c.ofType('call.toneSubscribeFailed')).toEqual([
      { type: 'call.toneSubscribeFailed', status: 500, code: '9999' },
    ]);
    expect(c.value()).toEqual({ established: 'active' });
    await c.clock.advance(15 * MIN);
    expect(c.f.keepAlive.calls).toHaveLength(1);
  });
});

/** promptMachine on its own, with a fake playPrompt: how each end is reached, and that a loop never completes. */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import {
  type PlayPromptActorInput,
  type PlayPromptOutput,
  type PromptCompletion,
  type PromptOutput,
  promptMachine,
} from '../../src/machines/index.js';
import { FakeActor, httpError, PENDING } from './fakes.js';

function start(loop = false, respond?: (clock: SimulatedClock) => PlayPromptOutput | typeof PENDING) {
  const clock = new SimulatedClock();
  const play = new FakeActor<PlayPromptActorInput, PlayPromptOutput>(clock, () =>
    respond ? respond(clock) : { operationId: 'op-p', status: 'running', at: clock.now() },
  );
  const actor = createActor(promptMachine.provide({ actors: { playPrompt: play.logic() } }), {
    clock,
    input: {
      callId: 'c',
      promptId: 'p',
      clientContext: 'ctx',
      prompts: [{ uri: 'https://m/x.wav' }],
      loop,
      at: 0,
    },
  }).start();
  return { clock, play, actor, output: () => actor.getSnapshot().output as PromptOutput | undefined };
}

const done = (over: Partial<PromptCompletion> = {}): PromptCompletion => ({
  type: 'OPERATION_COMPLETED',
  at: 0,
  operationId: 'op-p',
  clientContext: 'ctx',
  status: 'completed',
  completionReason: 'unknown',
  resultInfo: { code: 200, subcode: 0 },
  ...over,
});

describe('promptMachine', () => {
  it('completed (beta completionReason `unknown` with status completed is success)', async () => {
    const p = start();
    await p.clock.settle();
    expect(p.actor.getSnapshot().value).toBe('playing');
    p.actor.send(done());
    expect(p.output()).toMatchObject({ final: 'completed', operationId: 'op-p', reason: 'unknown' });
  });

  it('canceled by cancelMediaProcessing: 400/8508 or mediaOperationCanceled', async () => {
    const a = start();
    await a.clock.settle();
    a.actor.send(
      done({ status: 'failed', completionReason: null, resultInfo: { code: 400, subcode: 8508 } }),
    );
    expect(a.output()?.final).toBe('canceled');
    const b = start();
    await b.clock.settle();
    b.actor.send(done({ status: 'failed', completionReason: 'mediaOperationCanceled', resultInfo: null }));
    expect(b.output()?.final).toBe('canceled');
  });

  it('failed: the operation failed for another reason, or the POST failed', async () => {
    const a = start();
    await a.clock.settle();
    a.actor.send(
      done({ status: 'failed', completionReason: null, resultInfo: { code: 500, subcode: 9999 } }),
    );
    expect(a.output()).toMatchObject({ final: 'failed', resultInfo: { code: 500 } });
    const b = start(false, () => {
      throw httpError(400, 0);
    });
    await b.clock.settle();
    expect(b.output()).toMatchObject({ final: 'failed', error: { status: 400 } });
  });

  it('a loop prompt ignores a "completed" completion; only a cancel or the call end stops it', async () => {
    const p = start(true);
    await p.clock.settle();
    p.actor.send(done());
    expect(p.actor.getSnapshot().value).toBe('playing');
    const at = p.clock.now() + 5;
    p.actor.send({ type: 'CALL_ENDED', at });
    expect(p.output()).toMatchObject({ final: 'canceled', reason: 'callEnded', at });
  });

  it('a completion that overtakes the POST is matched by clientContext; another operation is ignored', async () => {
    const p = start(false, () => PENDING);
    await p.clock.settle();
    p.actor.send(done({ operationId: 'someone-else', clientContext: 'other' }));
    expect(p.actor.getSnapshot().value).toBe('requesting');
    p.actor.send(done({ operationId: 'op-early' }));
    expect(p.output()).toMatchObject({ final: 'completed', operationId: 'op-early' });
  });
});

/**
 * completionReason derived from resultInfo (issue 13, item 4): v1.0 may leave
 * completionReason out; the two documented record subcodes name it
 * (200/8515 maxRecordDurationReached, 400/8508 operationCanceled); nothing
 * else is guessed, and Graph's own completionReason always wins.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { SimulatedClock } from '../../src/adapters/clock.js';
import type { Completion, RecordEmitted, RecordOutput, StartRecordOutput } from '../../src/machines/index.js';
import { completion, providedRecord, recordFakes } from './fakes.js';

function setup(answer?: (at: number) => StartRecordOutput) {
  const clock = new SimulatedClock();
  const f = recordFakes(clock);
  if (answer) f.startRecord.respond = () => answer(clock.now());
  const actor = createActor(providedRecord(f), {
    clock,
    input: {
      callId: 'call-1',
      recordId: 'rec-1',
      clientContext: 'ctx-1',
      options: { maxRecordDurationInSeconds: 10 },
      at: clock.now(),
      storeKey: 'call-1-rec-1',
    },
  });
  const events: RecordEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  actor.start();
  return { clock, f, actor, events, output: () => actor.getSnapshot().output as RecordOutput | undefined };
}

const MAX = { code: 200, subcode: 8515, message: 'Action completed, max record duration reached.' };
const CANCELED = { code: 400, subcode: 8508, message: 'Action failed, the operation was cancelled.' };
const cancelled = (at: number, resultInfo: unknown): Completion =>
  completion(at, {
    status: 'failed',
    completionReason: undefined,
    resultInfo: resultInfo as Completion['resultInfo'],
    recordingLocation: null,
    hasRecording: false,
  });

describe('recordMachine: completionReason from resultInfo', () => {
  it.each([
    ['numbers', MAX],
    ['numeric strings and subCode', { code: '200', subCode: '8515', message: MAX.message }],
  ])('200/8515 as %s -> maxRecordDurationReached, through the handler to the output', async (_, info) => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(
      completion(r.clock.now(), {
        completionReason: undefined,
        resultInfo: info as Completion['resultInfo'],
      }),
    );
    await r.clock.settle();
    expect(r.events).toContainEqual({
      type: 'record.completed',
      recordId: 'rec-1',
      completionReason: 'maxRecordDurationReached',
    });
    expect(r.f.process.last.input).toMatchObject({
      completionReason: 'maxRecordDurationReached',
      resultInfo: MAX,
    });
    expect(r.output()).toMatchObject({
      final: 'deleted',
      outcome: 'processed',
      completionReason: 'maxRecordDurationReached',
      resultInfo: MAX,
    });
  });

  it.each([
    ['numbers', CANCELED],
    ['numeric strings and subCode', { code: '400', subCode: '8508', message: CANCELED.message }],
  ])('400/8508 as %s -> operationCanceled', async (_, info) => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(cancelled(r.clock.now(), info));
    await r.clock.settle();
    expect(r.output()).toMatchObject({
      final: 'failed',
      outcome: 'operationFailed',
      completionReason: 'operationCanceled',
      resultInfo: CANCELED,
    });
  });

  it('400/8508 in the POST answer itself (already terminal) -> operationCanceled', async () => {
    const r = setup((at) => ({
      operationId: 'op-1',
      status: 'failed',
      at,
      completion: cancelled(at, CANCELED),
    }));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ final: 'failed', completionReason: 'operationCanceled' });
  });

  it('undocumented pairs give no completionReason (nothing is invented)', async () => {
    for (const info of [
      { code: 200, subcode: 0 },
      { code: 408, subcode: 0 },
      { code: 200, subcode: 8508 },
      { code: 400, subcode: 8515 },
      null,
    ]) {
      const r = setup();
      await r.clock.settle();
      r.actor.send(cancelled(r.clock.now(), info));
      await r.clock.settle();
      expect(r.output()?.completionReason).toBeUndefined();
    }
  });

  it("Graph's own completionReason wins over the subcode", async () => {
    const r = setup();
    await r.clock.settle();
    r.actor.send(completion(r.clock.now(), { completionReason: 'stopToneDetected', resultInfo: MAX }));
    await r.clock.settle();
    expect(r.output()).toMatchObject({ completionReason: 'stopToneDetected', resultInfo: MAX });
  });
});

/**
 * The lifecycle rules on every generated path of the pure machines, with
 * every event the machines handle (also those no emulator can cause), and
 * the pure model's coverage (100 % of states and transitions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { callMachine, promptMachine, recordMachine } from '../../src/machines/index.js';
import {
  type Coverage,
  callMachinePaths,
  checkInvariants,
  coverage,
  promptMachinePaths,
  recordMachinePaths,
  replay,
} from '../../src/testing/model.js';

const record = recordMachinePaths({ events: 'all' });
const recordPaths = [...record.simple, ...record.shortest, ...record.transitions];
// Every start: a tracked established call, an offered call, a call the bot places.
const callPaths = (['established', 'incoming', 'outgoing'] as const).flatMap((start) => {
  const call = callMachinePaths({ events: 'all', start });
  return [...call.shortest, ...call.transitions];
});
const prompt = promptMachinePaths();
const promptPaths = [...prompt.simple, ...prompt.transitions];
const printed: string[] = [];
const show = (name: string, n: number, c: Coverage) =>
  printed.push(
    `${name}: ${n} pure paths, states ${c.states.covered}/${c.states.total} (${c.states.percent}%), transitions ${c.transitions.covered}/${c.transitions.total} (${c.transitions.percent}%)`,
  );

describe('invariants over every generated path of the pure machines', () => {
  it('recordMachine: a path that stored bytes ends in deleted; nothing leaves deleted or failed', () => {
    expect(checkInvariants('record', recordPaths)).toEqual([]);
    const held = record.simple.filter((p) =>
      p.steps.some((s) => JSON.stringify(s.state.value).includes('holdingClip')),
    );
    expect(held.length).toBeGreaterThan(10);
    for (const p of held) expect(p.state.value).toBe('deleted');
  });

  it('callMachine: nothing leaves ended; every end has a reason (and resultInfo); no child left; tones in order', () => {
    expect(checkInvariants('call', callPaths)).toEqual([]);
    // Every documented reason is reached by some path.
    const reasons = new Set(callPaths.map((p) => p.state.context.end.reason).filter(Boolean));
    expect([...reasons].sort()).toEqual(
      [
        'decisionTimeout',
        'expired',
        'hungUp',
        'keepAliveRefused',
        'notAnswered',
        'notFound',
        'redirected',
        'rejected',
        'setupFailed',
        'terminated',
        'unreachable',
      ].sort(),
    );
    // Tones: after #0, #1 is emitted; a repeated #1 and a late #0 change nothing and are not emitted.
    const toned = callPaths.find((p) => p.description === 'tone #0  =>  {"established":"active"}');
    expect(toned).toBeDefined();
    const last = toned!.steps.at(-1)!.event as unknown as { type: string; resource: { toneInfo: unknown } };
    const again = (sequenceId: number) => ({
      event: { ...last, resource: { ...last.resource, toneInfo: { sequenceId, tone: 'tone5' } } },
    });
    const replayed = replay(callMachine, {
      ...toned!,
      steps: [...toned!.steps, again(1), again(1), again(0)],
    });
    expect(replayed.emitted.filter((e) => e.type === 'call.tone').map((e) => e.sequenceId)).toEqual([0, 1]);
    const ended = callPaths.filter((p) => p.state.value === 'ended');
    const withRecord = ended.filter((p) => Object.keys(p.state.context.records).length > 0);
    expect(withRecord.length).toBeGreaterThan(3);
    // The drain timeout ends a call whose record still runs: the replay shows that child stopped.
    const drained = withRecord.find((p) => p.description.includes('after DRAIN_TIMEOUT'));
    expect(drained).toBeDefined();
    expect(Object.values(replay(callMachine, drained!).children)).toEqual(['stopped']);
  });

  it('promptMachine: a loop prompt never completes by itself; every prompt ends completed, failed or canceled', () => {
    expect(checkInvariants('prompt', promptPaths)).toEqual([]);
    const loops = prompt.simple.filter((p) => p.state.context.loop);
    expect(loops.length).toBeGreaterThan(3);
    expect(new Set(loops.map((p) => p.state.value))).toEqual(new Set(['failed', 'canceled']));
    expect(new Set(prompt.simple.filter((p) => !p.state.context.loop).map((p) => p.state.value))).toEqual(
      new Set(['completed', 'failed', 'canceled']),
    );
  });

  it('the invariant check itself catches a loop prompt that completes (a doctored final state)', () => {
    const loop = prompt.simple.find((p) => p.state.context.loop && p.state.value === 'canceled')!;
    const completed = prompt.simple.find((p) => !p.state.context.loop && p.state.value === 'completed')!;
    const doctored = {
      ...loop,
      steps: [...loop.steps.slice(0, -1), completed.steps.at(-1)!],
      state: completed.state,
    };
    expect(checkInvariants('prompt', [doctored]).map((v) => v.rule)).toContain(
      'a loop prompt completed by itself',
    );
  });

  it('the invariant check itself catches a path that keeps bytes (a doctored final state)', () => {
    const held = record.simple.find((p) => p.state.value === 'deleted')!;
    const failedEnd = record.simple.find((p) => p.state.value === 'failed')!;
    const doctored = {
      ...held,
      steps: [...held.steps.slice(0, -1), failedEnd.steps.at(-1)!],
      state: failedEnd.state,
    };
    expect(checkInvariants('record', [doctored]).map((v) => v.rule)).toContain(
      'stored bytes but did not end in deleted',
    );
  });

  it('the pure model covers 100 % of states and transitions of the three machines', () => {
    const rc = coverage(recordMachine, recordPaths);
    const cc = coverage(callMachine, callPaths);
    const pc = coverage(promptMachine, promptPaths);
    show('recordMachine', recordPaths.length, rc);
    show('callMachine', callPaths.length, cc);
    show('promptMachine', promptPaths.length, pc);
    expect([
      rc.states.missing,
      rc.transitions.missing,
      cc.states.missing,
      cc.transitions.missing,
      pc.states.missing,
      pc.transitions.missing,
    ]).toEqual([[], [], [], [], [], []]);
  });

  afterAll(() => console.log(printed.join('\n')));
});

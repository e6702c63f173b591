/**
 * The lifecycle rules on every generated path of the pure machines, with
 * every event the machines handle (also those no emulator can cause), and
 * the pure model's coverage (100 % of states and transitions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { callMachine, recordMachine } from '../../src/machines/index.js';
import {
  type Coverage,
  callMachinePaths,
  checkInvariants,
  coverage,
  recordMachinePaths,
  replay,
} from '../../src/testing/model.js';

const record = recordMachinePaths({ events: 'all' });
const call = callMachinePaths({ events: 'all' });
const recordPaths = [...record.simple, ...record.shortest, ...record.transitions];
const callPaths = [...call.shortest, ...call.transitions];
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

  it('callMachine: nothing leaves ended; a path to ended leaves no record child running', () => {
    expect(checkInvariants('call', callPaths)).toEqual([]);
    const ended = callPaths.filter((p) => p.state.value === 'ended');
    const withRecord = ended.filter((p) => Object.keys(p.state.context.records).length > 0);
    expect(withRecord.length).toBeGreaterThan(3);
    // The drain timeout ends a call whose record still runs: the replay shows that child stopped.
    const drained = withRecord.find((p) => p.description.includes('after DRAIN_TIMEOUT'));
    expect(drained).toBeDefined();
    expect(Object.values(replay(callMachine, drained!).children)).toEqual(['stopped']);
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

  it('the pure model covers 100 % of states and transitions of both machines', () => {
    const rc = coverage(recordMachine, recordPaths);
    const cc = coverage(callMachine, callPaths);
    show('recordMachine', recordPaths.length, rc);
    show('callMachine', callPaths.length, cc);
    expect([rc.states.missing, rc.transitions.missing, cc.states.missing, cc.transitions.missing]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  afterAll(() => console.log(printed.join('\n')));
});

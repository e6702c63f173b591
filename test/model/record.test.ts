/**
 * recordMachine as a model: every simple path from the start to a final
 * state (plus the self-loops those miss) runs against the emulator through
 * the real runtime on simulated time, one fresh harness per path; the record
 * actor must pass the path's states in order, end with its outcome, and
 * leave no clip in the store.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { recordMachine } from '../../src/machines/index.js';
import {
  coverage,
  describeTransition,
  type PathRun,
  recordMachinePaths,
  runRecordPath,
} from '../../src/testing/model.js';
import { runInHarness } from './run-in-harness.js';
import { UNREACHABLE_RECORD } from './unreachable.js';

const { simple, transitions } = recordMachinePaths();
const suite = [...simple, ...transitions];
const runs: PathRun[] = [];

describe('recordMachine model paths against the emulator', () => {
  it('the generated suite is bounded and covers every state and every reachable transition', () => {
    // Bounds: the abstract record state (value, outcome, early completion, call ended, a failed
    // delete) has a few dozen members; simple paths never repeat one, so the suite stays ~100.
    expect(simple.length).toBeGreaterThan(50);
    expect(suite.length).toBeLessThan(200);
    const cov = coverage(recordMachine, suite);
    expect(cov.states.missing).toEqual([]);
    expect(cov.transitions.missing).toEqual(Object.keys(UNREACHABLE_RECORD));
  });

  for (const [i, path] of suite.entries()) {
    it(`#${i + 1} ${path.description}`, async () => {
      await runInHarness(runs, (h) => runRecordPath(h, path));
    });
  }

  afterAll(() => {
    const cov = coverage(recordMachine, suite);
    const passed = runs.filter((r) => r.ok).length;
    const lines = [
      `recordMachine model suite: ${suite.length} paths (${simple.length} simple to a final state + ${transitions.length} for self-loops), ${passed}/${runs.length} passed against the emulator`,
      `  states ${cov.states.covered}/${cov.states.total} (${cov.states.percent}%), transitions ${cov.transitions.covered}/${cov.transitions.total} (${cov.transitions.percent}%)`,
      ...cov.transitions.missing.map(
        (t) =>
          `  unreachable: ${describeTransition(recordMachine, t)}: ${UNREACHABLE_RECORD[t] ?? 'NOT EXPLAINED'}`,
      ),
      `  simulated time: ${Math.round(runs.reduce((n, r) => n + r.simulatedMs, 0) / 1000)} s in all`,
    ];
    console.log(lines.join('\n'));
  });
});

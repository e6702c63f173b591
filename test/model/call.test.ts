/**
 * callMachine as a model: a shortest path to every abstract call state, plus
 * one more path per transition those miss, each run against the emulator
 * through the real runtime on simulated time (fresh harness per path). The
 * call actor must pass the path's states in order and end as the path says;
 * afterwards the call is ended and no record child or clip may be left.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { callMachine } from '../../src/machines/index.js';
import {
  callMachinePaths,
  callMediaPaths,
  coverage,
  describeTransition,
  type PathRun,
  replay,
  runCallPath,
} from '../../src/testing/model.js';
import { callSetupPaths } from '../../src/testing/model-run-setup.js';
import { runInHarness } from './run-in-harness.js';
import { NOT_YET_DRIVEN_CALL, UNREACHABLE_CALL } from './unreachable.js';

const { shortest, transitions } = callMachinePaths();
const base = [...shortest, ...transitions];
// The offered and placed starts run in setup.test.ts; coverage counts both suites.
const setup = callSetupPaths(base.flatMap((p) => replay(callMachine, p).transitions));
// Then prompts and key presses: paths over all events for the transitions both miss.
const media = callMediaPaths([...base, ...setup].flatMap((p) => replay(callMachine, p).transitions));
const suite = [...base, ...media];
const runs: PathRun[] = [];

describe('callMachine model paths against the emulator', () => {
  it('the generated suite is bounded and covers every state and every reachable transition', () => {
    // Bounds: one record child, one cancel in flight, time collapsed to "first attempt or retry"
    // and "retry left or not": under a hundred abstract states, one shortest path each.
    expect(shortest.length).toBeGreaterThan(30);
    expect(suite.length).toBeLessThan(150);
    const cov = coverage(callMachine, [...suite, ...setup]);
    expect(cov.states.missing).toEqual([]);
    expect([...cov.transitions.missing].sort()).toEqual(
      [...Object.keys(UNREACHABLE_CALL), ...Object.keys(NOT_YET_DRIVEN_CALL)].sort(),
    );
  });

  for (const [i, path] of suite.entries()) {
    it(`#${i + 1} ${path.description}`, async () => {
      await runInHarness(runs, (h) => runCallPath(h, path));
    });
  }

  afterAll(() => {
    const cov = coverage(callMachine, [...suite, ...setup]);
    const passed = runs.filter((r) => r.ok).length;
    const lines = [
      `callMachine model suite: ${suite.length} paths (${shortest.length} shortest to each abstract state + ${transitions.length} for the transitions they miss + ${media.length} with prompts and key presses), ${passed}/${runs.length} passed against the emulator`,
      `  + ${setup.length} set-up paths from the offered and placed starts (setup.test.ts)`,
      `  states ${cov.states.covered}/${cov.states.total} (${cov.states.percent}%), transitions ${cov.transitions.covered}/${cov.transitions.total} (${cov.transitions.percent}%)`,
      ...cov.transitions.missing
        .filter((t) => UNREACHABLE_CALL[t] || !NOT_YET_DRIVEN_CALL[t])
        .map(
          (t) =>
            `  unreachable: ${describeTransition(callMachine, t)}: ${UNREACHABLE_CALL[t] ?? 'NOT EXPLAINED'}`,
        ),
      ...Object.keys(NOT_YET_DRIVEN_CALL).map(
        (t) => `  not yet driven: ${describeTransition(callMachine, t)}`,
      ),
      `  simulated time: ${Math.round(runs.reduce((n, r) => n + r.simulatedMs, 0) / 60_000)} min in all`,
    ];
    console.log(lines.join('\n'));
  });
});

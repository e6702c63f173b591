/**
 * callMachine paths from the offered and the placed start, against the
 * emulator through the runtime (answer/reject/redirect, placeCall): each
 * path up to the call's establishment, kept when it takes a transition the
 * established-start suite (call.test.ts) does not.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { callMachine } from '../../src/machines/index.js';
import { callMachinePaths, type PathRun, replay } from '../../src/testing/model.js';
import { callSetupPaths, runCallSetupPath } from '../../src/testing/model-run-setup.js';

import { runInHarness } from './run-in-harness.js';

const est = callMachinePaths();
const known = [...est.shortest, ...est.transitions].flatMap((p) => replay(callMachine, p).transitions);
const suite = callSetupPaths(known);
const runs: PathRun[] = [];

describe('callMachine set-up paths against the emulator', () => {
  it('the set-up suite is bounded', () => {
    expect(suite.length).toBeGreaterThan(10);
    expect(suite.length).toBeLessThan(80);
  });

  for (const [i, path] of suite.entries()) {
    it(`#${i + 1} ${path.description}`, async () => {
      // The runner decides through runtime.answer/reject/redirect; the handler only lets offers in.
      await runInHarness(runs, (h) => runCallSetupPath(h, path), {
        runtime: { onIncomingCall: () => new Promise(() => {}) },
      });
    });
  }

  afterAll(() => {
    const passed = runs.filter((r) => r.ok).length;
    console.log(
      `callMachine set-up suite: ${suite.length} paths (offered and placed starts, cut at establishment), ${passed}/${runs.length} passed against the emulator; simulated ${Math.round(runs.reduce((n, r) => n + r.simulatedMs, 0) / 60_000)} min`,
    );
  });
});

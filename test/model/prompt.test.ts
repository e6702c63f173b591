/**
 * promptMachine as a model against the emulator: each path's prompt played
 * through runtime.playPrompt on an established call; the prompt child must
 * pass the path's states in order, and end when the call ends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { promptMachine } from '../../src/machines/index.js';
import { coverage, describeTransition, type PathRun, promptMachinePaths } from '../../src/testing/model.js';
import { runPromptPath } from '../../src/testing/model-run-prompt.js';
import { runInHarness } from './run-in-harness.js';
import { UNREACHABLE_PROMPT } from './unreachable.js';

const { simple, transitions } = promptMachinePaths();
const generated = [...simple, ...transitions];
/** A completion before the POST's answer: see UNREACHABLE_PROMPT. */
const early = (p: (typeof generated)[number]) =>
  p.steps.slice(1).find((s) => s.event.type !== 'RESUME')?.event.type === 'OPERATION_COMPLETED';
const all = generated.filter((p) => !early(p));
const runs: PathRun[] = [];

describe('promptMachine model paths against the emulator', () => {
  it('the emulator runs cover every transition but the named unreachable ones', () => {
    expect(coverage(promptMachine, generated).transitions.percent).toBe(100);
    expect([...coverage(promptMachine, all).transitions.missing].sort()).toEqual(
      Object.keys(UNREACHABLE_PROMPT).sort(),
    );
  });

  for (const [i, path] of all.entries()) {
    const loop = (path.input as { loop?: boolean }).loop ? 'loop: ' : '';
    it(`#${i + 1} ${loop}${path.description}`, async () => {
      // `loop` is beta-only (Graph's v1.0 refuses it, so does the emulator).
      await runInHarness(runs, (h) => runPromptPath(h, path), { beta: !!loop });
    });
  }

  afterAll(() => {
    const cov = coverage(promptMachine, all);
    console.log(
      [
        `promptMachine model suite: ${all.length} paths (${generated.length - all.length} with an early completion left out), ${runs.filter((r) => r.ok).length}/${runs.length} passed against the emulator`,
        `  states ${cov.states.covered}/${cov.states.total}, transitions ${cov.transitions.covered}/${cov.transitions.total}`,
        ...Object.keys(UNREACHABLE_PROMPT).map(
          (t) => `  unreachable: ${describeTransition(promptMachine, t)}: ${UNREACHABLE_PROMPT[t]}`,
        ),
      ].join('\n'),
    );
  });
});

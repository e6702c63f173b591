/**
 * One model path in a fresh emulator harness: run it, keep its result for the coverage report,
 * and fail with what was expected against what was observed. Shared by the model suites.
 */
import { expect } from 'vitest';
import { createModelHarness, type ModelHarness, type PathRun } from '../../src/testing/model.js';

export async function runInHarness(
  runs: PathRun[],
  run: (h: ModelHarness) => Promise<PathRun>,
  options?: Parameters<typeof createModelHarness>[0],
): Promise<void> {
  const h = await createModelHarness(options);
  try {
    const result = await run(h);
    runs.push(result);
    expect(
      result.error ?? 'ok',
      `expected ${result.expected.join(' | ')}\nobserved ${result.observed.join(' | ')}`,
    ).toBe('ok');
  } finally {
    await h.close();
  }
}

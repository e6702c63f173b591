import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report feeds the plain "N passed, N failed" line of .ci/run.
    reporters: ['default', ['json', { outputFile: '.vitest-result.json' }]],
  },
});

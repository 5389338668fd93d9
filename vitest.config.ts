import { defineConfig } from 'vitest/config';

// Projects let each kind of test run alone (npm run test:unit | test:e2e | test:claude | test:openclaw)
// while `npm test` runs them all. Files run one at a time: most suites spawn real gateways and
// Claude processes, and on a 2-core CI machine cross-file contention only makes them slower.
export default defineConfig({
  test: {
    // The JSON report is where .ci/run takes its closing "N passed, N failed" line from.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    fileParallelism: false,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Upper bounds, not waits: a loaded 2-core machine can make a 2 s test take 30 s.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'claude',
          include: ['test/claude/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'openclaw',
          include: ['test/openclaw/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

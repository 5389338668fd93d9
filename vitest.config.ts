import { defineConfig } from 'vitest/config';

// Projects let each kind of test run alone (npm run test:unit | test:e2e | test:claude | test:openclaw)
// while `npm test` runs them all. Real-process suites run files one at a time: they spawn
// Claude processes and a 2-core CI machine gives truer timings without cross-file contention.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'claude',
          include: ['test/claude/**/*.test.ts'],
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

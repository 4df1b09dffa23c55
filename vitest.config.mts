import { defineConfig } from 'vitest/config';

const SOAK = 'test/reliability/soak.test.ts';
const EXCLUDE = ['**/node_modules/**', '**/dist/**'];
// Tests that start real processes wait on them, bounded by these limits.
const LIMITS = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    // Suites that spawn services pick free ports, so files can run side by side;
    // two at a time suits a 2-core machine.
    maxWorkers: 2,
    // One run, one summary. The soak is a project of its own that runs after all the
    // others (groupOrder) and alone, so that no other suite's load skews its lag.
    projects: [
      {
        test: {
          name: 'suite',
          include: ['*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...EXCLUDE, SOAK],
          sequence: { groupOrder: 0 },
          ...LIMITS,
        },
      },
      { test: { name: 'soak', include: [SOAK], exclude: EXCLUDE, sequence: { groupOrder: 1 }, ...LIMITS } },
    ],
    // The last line of the output sums up the whole run: `Tests: N passed, N failed`.
    reporters: ['default', './test/support/totals-reporter.ts'],
  },
});

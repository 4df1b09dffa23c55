import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Tests that start real processes wait on them, bounded by these limits.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites that spawn services pick free ports, so files can run side by side;
    // two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});

import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends `npm test` on one line that sums up the whole run, the line a reader (or CI's
 * log reader) looks for last: `Tests: 452 passed, 0 failed` (`, 3 skipped` when any
 * were). A file that could not run at all (an import or a beforeAll that threw) and
 * an error thrown outside any test each count as one failure, so the line never
 * reads "0 failed" for a run vitest itself reports as failed.
 */
export default class TotalsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const { state } = test.result();
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failedHere += 1;
        else if (state === 'skipped') skipped += 1;
      }
      if (failedHere === 0 && module.errors().length > 0) failedHere = 1;
      failed += failedHere;
    }
    const skippedPart = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed${skippedPart}\n`);
  }
}

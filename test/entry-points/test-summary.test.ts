import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process';

const run = promisify(execFile);

describe('the output of a test run', () => {
  it('ends on one line that sums up the whole run', async () => {
    // The same configuration `npm test` uses, on one small file of known size.
    const { stdout } = await run(
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/traffic-gen/random.test.ts'],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' } },
    );
    const lines = stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('Tests: 4 passed, 0 failed');
    expect(lines.filter((line) => /^\s*Test Files\s/.test(line))).toHaveLength(1);
  });
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A process that logs and then simply runs out of work, with no explicit flush. */
const SCRIPT = `
const { logger } = require('@dice-roller/telemetry');
for (let i = 1; i <= 3; i++) logger.info({ line: i }, 'last words');
`;

describe('the logger of a process that ends on its own', () => {
  it('writes every line before the process exits', async () => {
    // Lost lines were a race (a few runs in a hundred), hence several processes.
    // Four at a time, each given 30 s: on a busy 2-core machine a dozen node
    // processes starting at once can take longer than any one of them should.
    const runs: { stdout: string }[] = [];
    for (let wave = 0; wave < 3; wave++) {
      const started = Array.from({ length: 4 }, () =>
        run(process.execPath, ['-e', SCRIPT], { cwd: REPO_ROOT, timeout: 30_000 }),
      );
      runs.push(...(await Promise.all(started)));
    }
    for (const { stdout } of runs) {
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { message: string; line: number });
      expect(lines.map((line) => line.line)).toEqual([1, 2, 3]);
    }
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const REPO_ROOT = path.join(__dirname, '..', '..');

it('fault-lab/scripts type-check, strict like the workspaces', () => {
  const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', path.join(REPO_ROOT, 'fault-lab', 'scripts', 'tsconfig.json')], {
    encoding: 'utf8',
  });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

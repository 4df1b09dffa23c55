/**
 * Writes the dashboards Grafana loads (grafana-dashboards/*.json) from their code.
 *
 *   node grafana-dashboards/src/generate.mts           # write the files
 *   node grafana-dashboards/src/generate.mts --check   # exit 1 if a file differs from its code
 *
 * The JSON is formatted by the repository's Biome, so that `npm run lint` accepts it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS } from './dashboards.mts';

const FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = path.resolve(FOLDER, '..');

/** The file's text: JSON as Biome formats it (arrays of short values on one line, ...). */
export function render(file: string, dashboard: unknown): string {
  const biome = path.join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  return execFileSync(biome, ['format', `--stdin-file-path=${path.join(FOLDER, file)}`], {
    cwd: REPO_ROOT,
    input: `${JSON.stringify(dashboard, null, 2)}\n`,
    encoding: 'utf8',
  });
}

function main(check: boolean): number {
  let stale = 0;
  for (const [file, build] of Object.entries(DASHBOARDS)) {
    const target = path.join(FOLDER, file);
    const text = render(file, build());
    let current: string | undefined;
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (check) {
      console.error(
        `${path.relative(REPO_ROOT, target)} differs from its code: run node grafana-dashboards/src/generate.mts`,
      );
      stale++;
    } else {
      writeFileSync(target, text);
      console.log(`wrote ${path.relative(REPO_ROOT, target)}`);
    }
  }
  return stale === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.includes('--check'));
}

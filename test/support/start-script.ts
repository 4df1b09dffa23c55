import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository's root folder: the nearest folder above this file whose
 * package.json declares the workspaces (this file also runs compiled, from
 * bench/dist/, for the benchmark).
 */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);

export interface StartScript {
  /** Leading `NAME=value` assignments. */
  env: string[];
  /** The command and its arguments: `['node', '--require', ...]`. */
  command: string[];
}

/** The `start` script of a workspace (what `npm start -w <name>` runs), split into words. */
export function startScript(workspace: string, root = REPO_ROOT): StartScript {
  const file = path.join(root, workspace, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const firstCommandWord = words.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word));
  return { env: words.slice(0, firstCommandWord), command: words.slice(firstCommandWord) };
}

/**
 * What `npm start -w <workspace>` runs, to spawn it with `process.execPath`: the
 * script's environment assignments, and node's arguments (`node` left out).
 */
export function nodeCommand(workspace: string, root = REPO_ROOT): { env: Record<string, string>; args: string[] } {
  const { env, command } = startScript(workspace, root);
  if (command[0] !== 'node') throw new Error(`${workspace}'s start script does not run node: ${command.join(' ')}`);
  const assignments = env.map((assignment) => {
    const eq = assignment.indexOf('=');
    return [assignment.slice(0, eq), assignment.slice(eq + 1)] as const;
  });
  return { env: Object.fromEntries(assignments), args: command.slice(1) };
}

/**
 * Copies the current build of the services (their dist/ folders) into DIR, with
 * a node_modules that points back at this repository's packages, so that a later
 * build can be compared with this one side by side:
 *
 *   node bench/dist/bench/snapshot.js /tmp/before     # before a change
 *   ...change, build...
 *   node bench/dist/bench/ab.js --a-root /tmp/before  # A = the snapshot, B = the working tree
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../test/support/start-script';

const WORKSPACES = ['telemetry', 'fault-lab', 'die-service', 'dice-roller', 'frontend'];
/** The workspaces the services require by their package name. */
const LIBRARIES = ['telemetry', 'fault-lab'];

const target = process.argv[2];
if (target === undefined) {
  console.error('usage: snapshot.js DIR');
  process.exit(2);
}
const root = path.resolve(target);
rmSync(root, { recursive: true, force: true });
for (const workspace of WORKSPACES) {
  const from = path.join(REPO_ROOT, workspace);
  const to = path.join(root, workspace);
  mkdirSync(to, { recursive: true });
  cpSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
  cpSync(path.join(from, 'dist'), path.join(to, 'dist'), { recursive: true });
  for (const extra of ['die_specifications.json', 'public', 'node_modules']) {
    if (existsSync(path.join(from, extra))) symlinkSync(path.join(from, extra), path.join(to, extra));
  }
}
const modules = path.join(root, 'node_modules');
mkdirSync(path.join(modules, '@dice-roller'), { recursive: true });
for (const library of LIBRARIES) symlinkSync(path.join(root, library), path.join(modules, '@dice-roller', library));
// The fault lab's flag file, where it looks for it by default.
symlinkSync(path.join(REPO_ROOT, 'flags'), path.join(root, 'flags'));
for (const entry of readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
  if (entry === '@dice-roller' || entry === '.bin') continue;
  const local = WORKSPACES.includes(entry) ? path.join(root, entry) : path.join(REPO_ROOT, 'node_modules', entry);
  symlinkSync(local, path.join(modules, entry));
}
console.log(`snapshot of ${WORKSPACES.join(', ')} in ${root}`);

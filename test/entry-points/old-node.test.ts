import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/service-process';

/**
 * A real Node.js older than 24, as a newcomer's machine has one: Debian 12's
 * /usr/bin/node is Node 18 or 20. OLD_NODE names another one.
 */
const OLD_NODE = process.env.OLD_NODE ?? '/usr/bin/node';
const REFUSAL =
  /^Dice Roller needs Node\.js 24 or later, but this is Node\.js (\d+)\.\d+\.\d+ \(.+\)\. Get it with `npm install --prefix ~\/node24 node@24`/m;

let oldNodeDir: string;

beforeAll(() => {
  // Guard first: with a Node that passes the check, `npm test` below would run the whole suite again.
  const version = execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim();
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (!(major < 24)) {
    throw new Error(`${OLD_NODE} is ${version}: these tests need a Node.js older than 24 (set OLD_NODE to one)`);
  }
  // `node` (and npm, which runs on whichever node comes first in PATH) is the old one.
  oldNodeDir = mkdtempSync(path.join(tmpdir(), 'old-node-'));
  symlinkSync(OLD_NODE, path.join(oldNodeDir, 'node'));
});

afterAll(() => {
  if (oldNodeDir !== undefined) rmSync(oldNodeDir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  output: string;
}

/** Runs an npm command with the old Node first in PATH; killed (with its children) after 30 s. */
function npmWithOldNode(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('npm', args, {
      cwd: REPO_ROOT,
      env: { PATH: `${oldNodeDir}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('every entry point on a Node.js older than 24', () => {
  it.each([
    'start',
    'test',
    'run traffic',
    'run bench',
    'run soak',
    'start -w die-service',
    'start -w dice-roller',
    'start -w frontend',
    'start -w traffic-gen',
  ])('npm %s stops at once with one line: the version found, the one needed, how to get it', async (command) => {
    const { code, output } = await npmWithOldNode(command.split(' '));
    expect(code, output).toBe(1);
    const refusal = REFUSAL.exec(output);
    expect(refusal, output).not.toBeNull();
    expect(Number(refusal?.[1])).toBeLessThan(24);
    // Refused before anything else ran: no build, no service, no crash inside a dependency.
    expect(output).not.toContain('tsc --build');
    expect(output).not.toContain('dist/');
    expect(output).not.toMatch(/TypeError|SyntaxError|Service started/);
  });
});

describe('the Node.js version check on Node.js 24', () => {
  it('says nothing and lets the command run', () => {
    const output = execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'check-node.js')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).toBe('');
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports';
import { REPO_ROOT, type ServiceProcess, startService } from '../support/service-process';

/** The user's working directory, outside the repository, holding their own dice. */
const userDirectory = mkdtempSync(path.join(tmpdir(), 'my-dice-'));
writeFileSync(path.join(userDirectory, 'dice.json'), JSON.stringify({ coin: { faces: [0, 1], error_rate: 0 } }));
const started: ServiceProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((service) => service.stop()));
  rmSync(userDirectory, { recursive: true, force: true });
});

interface NpmRun {
  lines: string[];
  /** Resolves with the first JSON log line `predicate` accepts, or undefined if npm exits first. */
  logLine(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined>;
  stop(): Promise<void>;
}

/** `npm --prefix <repo> start -w die-service`, typed in `cwd`, as a user in their own folder would. */
function npmStartDieService(cwd: string, env: Record<string, string>): NpmRun {
  const child = spawn('npm', ['--prefix', REPO_ROOT, 'start', '-w', 'die-service'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiting) wake();
  });
  child.stderr.resume();
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      // Already gone.
    }
  };
  const deadline = setTimeout(() => killGroup('SIGKILL'), 30_000);
  closed.then(() => clearTimeout(deadline));
  const parsed = () =>
    lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    lines,
    logLine: (predicate) =>
      new Promise((resolve) => {
        const check = () => {
          const found = parsed().find(predicate);
          if (found !== undefined) {
            waiting.delete(check);
            resolve(found);
          }
        };
        waiting.add(check);
        check();
        closed.then(() => {
          waiting.delete(check);
          resolve(parsed().find(predicate));
        });
      }),
    stop: async () => {
      killGroup('SIGTERM');
      await closed;
    },
  };
}

describe('a relative DIE_SPECS_FILE', () => {
  it('through npm, is taken from the directory the command was typed in', async () => {
    const port = await freePort();
    const npm = npmStartDieService(userDirectory, {
      DIE_SPECS_FILE: 'dice.json',
      PORT: String(port),
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    try {
      const loaded = await npm.logLine((line) => line.message === 'Die specifications loaded');
      expect(loaded, npm.lines.join('\n')).toMatchObject({ file: path.join(userDirectory, 'dice.json') });
      await npm.logLine((line) => line.message === 'Service started');
      expect(await (await fetch(`http://127.0.0.1:${port}/dice`)).json()).toEqual({ identifiers: ['coin'] });
    } finally {
      await npm.stop();
    }
  });

  it('through npm, when missing, stops die-service with the absolute path in the message', async () => {
    const npm = npmStartDieService(userDirectory, {
      DIE_SPECS_FILE: 'missing.json',
      PORT: String(await freePort()),
    });
    const error = await npm.logLine((line) => line.level === 'ERROR');
    await npm.stop();
    expect(error?.message).toBe(
      `Configuration error: ${path.join(userDirectory, 'missing.json')}: cannot be read (ENOENT)`,
    );
  });

  it('with node started directly, is taken from its working directory', async () => {
    // startService runs node in die-service/, as `cd die-service && node ... dist/server.js` would.
    const relative = path.relative(path.join(REPO_ROOT, 'die-service'), path.join(userDirectory, 'dice.json'));
    const service = await startService('die-service', { env: { DIE_SPECS_FILE: relative } });
    started.push(service);
    expect(service.logs.find((line) => line.message === 'Die specifications loaded')).toMatchObject({
      file: path.join(userDirectory, 'dice.json'),
    });
    expect(await (await fetch(`${service.url}/dice`)).json()).toEqual({ identifiers: ['coin'] });
  });
});

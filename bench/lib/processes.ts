/**
 * The processes a benchmark run starts, and the guarantee that it stops them all:
 * on a normal end, on a failure, on Ctrl-C (SIGINT) or SIGTERM, and as a last
 * resort (SIGKILL) when the harness itself exits.
 *
 * Services write their logs to files, as a container runtime collects stdout: the
 * harness never reads their output through its own event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Stops `child` with the others if the harness is interrupted or fails. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LoggedProcessOptions {
  name: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** stdout and stderr both go to this file. */
  logFile: string;
}

/** A child process whose stdout and stderr go straight to a file. */
export class LoggedProcess {
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(readonly options: LoggedProcessOptions) {
    const fd = openSync(options.logFile, 'w');
    try {
      this.child = spawn(process.execPath, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        running.delete(this.child);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 12_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Polls `url` until it answers 200, the process dies, or `timeoutMs` passes. */
export async function waitUntilOk(url: string, owner: LoggedProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!owner.alive) {
      throw new StartupError(`${owner.options.name} exited during start-up; see ${owner.options.logFile}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new StartupError(`${url} did not answer 200 within ${timeoutMs} ms; see ${owner.options.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops every process still running (used on Ctrl-C and failures). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

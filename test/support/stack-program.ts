import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { trackProcess } from './service-process';

/** `binary`, as stack/build/build.sh builds it: a missing one is an error that names the command, never a reason to skip. */
export function requireBinary(binary: string): string {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it with stack/build/build.sh (needs Go)`);
  return binary;
}

/**
 * A program of the stack that a test runs (the collector, Prometheus): killed with
 * the test run if it ends without stopping it, the tail of its output kept for
 * failure messages, and stopped with SIGTERM, then SIGKILL after a grace period.
 */
export class StackProgram {
  private output = '';

  constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    trackProcess(child);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-50_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }

  /** What the program logged last, for failure messages. */
  get log(): string {
    return this.output;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Polls `isReady`; stops the program and throws, with its log, if it exits or 30 s pass first. */
  async waitUntilReady(name: string, isReady: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await isReady())) {
      if (this.exited || Date.now() > deadline) {
        await this.stop();
        throw new Error(`${name} did not become ready (exited: ${this.exited}):\n${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Summary } from '../../traffic-gen/src/summary';
import { REPO_ROOT } from '../support/service-process';
import { nodeCommand } from '../support/start-script';
import { WakeUp } from '../support/wake-up';

export interface TrafficGenRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, milliseconds. */
  elapsedMs: number;
  /** The --json summary (stdout parsed as one JSON object). */
  summary(): Summary;
  /** stderr's JSON log lines. */
  logs(): Record<string, unknown>[];
}

const running = new Set<ChildProcessByStdio<null, Readable, Readable>>();

/** What `npm start -w traffic-gen` runs: node's arguments (`node` left out) and the environment, in its folder. */
function trafficGenCommand(args: readonly string[], otlpEndpoint: string, env: Record<string, string>) {
  const start = nodeCommand('traffic-gen');
  return {
    args: [...start.args, ...args],
    cwd: path.join(REPO_ROOT, 'traffic-gen'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...start.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
  };
}

/**
 * traffic-gen as `npm start -w traffic-gen` runs it: the telemetry bootstrap
 * loaded first, logs on stderr, spans to `otlpEndpoint`.
 */
export class TrafficGenProcess {
  readonly done: Promise<TrafficGenRun>;
  private stdout = '';
  private stderr = '';
  private readonly output = new WakeUp();
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;

  constructor(args: readonly string[], otlpEndpoint: string, env: Record<string, string> = {}) {
    const startedAt = performance.now();
    const command = trafficGenCommand(args, otlpEndpoint, env);
    this.child = spawn(process.execPath, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.output.notify();
    });
    this.done = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        this.output.notify();
        const { stdout, stderr } = this;
        resolve({
          code,
          signal,
          stdout,
          stderr,
          elapsedMs: performance.now() - startedAt,
          summary: () => JSON.parse(stdout) as Summary,
          logs: () =>
            stderr
              .split('\n')
              .filter((line) => line.startsWith('{'))
              .map((line) => JSON.parse(line) as Record<string, unknown>),
        });
      });
    });
  }

  /** Resolves once stderr contains `text`; rejects if the process exits first or after `timeoutMs`. */
  async waitForStderr(text: string, timeoutMs = 15_000): Promise<void> {
    await this.output.until(
      () => {
        if (this.stderr.includes(text)) return true;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`traffic-gen exited before writing "${text}":\n${this.stderr}`);
        }
        return undefined;
      },
      timeoutMs,
      () => new Error(`traffic-gen did not write "${text}" in ${timeoutMs} ms:\n${this.stderr}`),
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Runs traffic-gen to completion, killing it if it outlives `timeoutMs`. */
export async function runTrafficGen(
  args: readonly string[],
  otlpEndpoint: string,
  { env = {}, timeoutMs = 30_000 }: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TrafficGenRun> {
  const trafficGen = new TrafficGenProcess(args, otlpEndpoint, env);
  const timer = setTimeout(() => trafficGen.signal('SIGKILL'), timeoutMs);
  try {
    return await trafficGen.done;
  } finally {
    clearTimeout(timer);
  }
}

const shellQuote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/**
 * Runs traffic-gen to completion on a pseudo-terminal (util-linux `script`), as a
 * person at a terminal, or `docker compose run` without -T, runs it. stdout and
 * stderr both reach the terminal: `output` is everything it showed.
 */
export function runTrafficGenOnTerminal(
  args: readonly string[],
  otlpEndpoint: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const command = trafficGenCommand(args, otlpEndpoint, env);
  const line = [process.execPath, ...command.args].map(shellQuote).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--flush', '--command', line, '/dev/null'], {
    cwd: command.cwd,
    env: command.env,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** For afterAll: whatever traffic-gen a test left running (a failed assertion midway) is killed. */
export async function killLeftoverTrafficGen(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

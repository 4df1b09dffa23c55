import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { freePort } from './ports';
import { nodeCommand } from './start-script';
import { WakeUp } from './wake-up';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type ServiceName = 'die-service' | 'dice-roller' | 'frontend';

/** One JSON log line as a service wrote it to stdout. */
export type LogLine = Record<string, unknown> & { level: string; message: string; service: string; timestamp: string };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
// Last resort if a test run dies without its afterAll: never leave services behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A service started exactly as `npm start -w <service>` starts it: node with the
 * arguments of its start script, in its folder.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  readonly stdoutLines: string[] = [];
  readonly exited: Promise<ExitStatus>;
  private readonly output = new WakeUp();
  private hasExited = false;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then every line the process wrote has been read.
      child.once('close', (code, signal) => {
        running.delete(child);
        this.hasExited = true;
        resolve({ code, signal });
        this.output.notify();
      });
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.stdoutLines.push(line);
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line (npm or node output); kept in stdoutLines.
      }
      this.output.notify();
    });
    child.stderr.on('data', (chunk: Buffer) => this.stdoutLines.push(chunk.toString()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first log line matching `predicate`; rejects on exit or after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const output = () => this.stdoutLines.join('\n');
    return this.output.until(
      () => {
        const line = this.logs.find(predicate);
        if (line === undefined && this.hasExited) {
          throw new Error(`${this.name} exited before the expected log line:\n${output()}`);
        }
        return line;
      },
      timeoutMs,
      () => new Error(`${this.name}: expected log line not seen in ${timeoutMs} ms:\n${output()}`),
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
  async stop(graceMs = 12_000): Promise<ExitStatus> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface StartOptions {
  env?: Record<string, string>;
  port?: number;
  /** Wait for the "Service started" log line (default), or return at once. */
  waitUntilStarted?: boolean;
}

/**
 * A copy of the shipped flag file (every fault off) for services a test starts, so
 * that faults switched on in the repository's file (`npm run fault`) never reach a
 * test. Tests of the fault lab point FAULT_FLAGS_FILE at their own copy.
 */
const ALL_FAULTS_OFF = path.join(mkdtempSync(path.join(tmpdir(), 'faults-off-')), 'faults.flagd.json');
copyFileSync(path.join(REPO_ROOT, 'flags', 'faults.flagd.json'), ALL_FAULTS_OFF);
process.once('exit', () => rmSync(path.dirname(ALL_FAULTS_OFF), { recursive: true, force: true }));

/** The environment every test service starts from: nothing inherited but PATH and HOME. */
function baseEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    FAULT_FLAGS_FILE: ALL_FAULTS_OFF,
    // Spans reach the test's receiver within a fraction of a second.
    OTEL_BSP_SCHEDULE_DELAY: '100',
    // No collector unless a test provides one: an unused loopback port.
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  };
}

/** A service of this repository, started exactly as `npm start -w <name>` starts it. */
export function startService(name: ServiceName, options: StartOptions = {}): Promise<ServiceProcess> {
  const start = nodeCommand(name);
  return startNodeProcess(name, start.args, path.join(REPO_ROOT, name), {
    ...options,
    env: { ...start.env, ...options.env },
  });
}

/**
 * Any node program that serves on PORT and logs as the services do (such as a
 * small app built on the service kit, in a test), with node's `args`, in `cwd`.
 */
export async function startNodeProcess(
  name: string,
  args: readonly string[],
  cwd: string,
  { env = {}, port, waitUntilStarted = true }: StartOptions = {},
): Promise<ServiceProcess> {
  const servicePort = port ?? (await freePort());
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...baseEnvironment(), PORT: String(servicePort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = new ServiceProcess(name, servicePort, child);
  if (waitUntilStarted) await service.waitForLog((line) => line.message === 'Service started');
  return service;
}

export interface Chain {
  dieService: ServiceProcess;
  diceRoller: ServiceProcess;
  frontend: ServiceProcess;
  all: ServiceProcess[];
  stop(): Promise<void>;
}

/** The three services wired to each other on free loopback ports, started side by side. */
export async function startChain(
  env: Record<string, string> = {},
  perService: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Chain> {
  const [diePort, rollerPort, frontendPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const dieServiceUrl = `http://127.0.0.1:${diePort}`;
  const diceRollerUrl = `http://127.0.0.1:${rollerPort}`;
  const [dieService, diceRoller, frontend] = await Promise.all([
    startService('die-service', { port: diePort, env: { ...env, ...perService['die-service'] } }),
    startService('dice-roller', {
      port: rollerPort,
      env: { DIE_SERVICE_URL: dieServiceUrl, ...env, ...perService['dice-roller'] },
    }),
    startService('frontend', {
      port: frontendPort,
      env: { DIE_SERVICE_URL: dieServiceUrl, DICE_ROLLER_URL: diceRollerUrl, ...env, ...perService.frontend },
    }),
  ]);
  const all = [dieService, diceRoller, frontend];
  return {
    dieService,
    diceRoller,
    frontend,
    all,
    stop: async () => void (await Promise.all(all.map((s) => s.stop()))),
  };
}

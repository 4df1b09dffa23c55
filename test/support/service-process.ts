import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { OtlpReceiver } from './otlp-receiver';
import { freePort } from './ports';
import { nodeCommand, REPO_ROOT } from './start-script';
import { WakeUp } from './wake-up';

export { REPO_ROOT } from './start-script';

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

/** Kills `child` with the services if this process exits first (the benchmark's load generator). */
export function trackProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** SIGTERM to every process still running, SIGKILL after 12 s (the benchmark on Ctrl-C or a failure). */
export async function stopAllProcesses(): Promise<void> {
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

/**
 * A service started exactly as `npm start -w <service>` starts it: node with the
 * arguments of its start script, in its folder. Its output is read line by line
 * (`logs`, `waitForLog`), or, for the benchmark, written to a file that this
 * process never reads, as a container runtime collects stdout.
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
    private readonly child: ChildProcess,
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
    if (child.stdout !== null) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        this.stdoutLines.push(line);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // Not a log line (npm or node output); kept in stdoutLines.
        }
        this.output.notify();
      });
    }
    child.stderr?.on('data', (chunk: Buffer) => this.stdoutLines.push(chunk.toString()));
  }

  get alive(): boolean {
    return !this.hasExited;
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
  /** Wait until the service has started (default), or return at once. */
  waitUntilStarted?: boolean;
  /** Where the repository is (the benchmark may run a snapshot of another revision). */
  root?: string;
  /** Flags for node before the start script's arguments (`--cpu-prof`). */
  nodeFlags?: readonly string[];
  /** Instead of the test environment below, start from this one. */
  baseEnv?: Record<string, string>;
  /** stdout and stderr go to this file, unread; start-up is then awaited on `GET /health`. */
  logFile?: string;
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
  const root = options.root ?? REPO_ROOT;
  const start = nodeCommand(name, root);
  return startNodeProcess(name, [...(options.nodeFlags ?? []), ...start.args], path.join(root, name), {
    ...options,
    env: { ...start.env, ...options.env },
  });
}

/** How long a service may take to start before a test gives up on it. */
const STARTUP_TIMEOUT_MS = 30_000;

/** Polls `GET /health` until it answers 200; rejects if the process exits or after `timeoutMs`. */
async function waitUntilHealthy(service: ServiceProcess, timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!service.alive) throw new Error(`${service.name} exited during start-up`);
    try {
      const response = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${service.name} did not answer /health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Any node program that serves on PORT and logs as the services do (such as a
 * small app built on the service kit, in a test), with node's `args`, in `cwd`.
 */
export async function startNodeProcess(
  name: string,
  args: readonly string[],
  cwd: string,
  { env = {}, port, waitUntilStarted = true, baseEnv, logFile }: StartOptions = {},
): Promise<ServiceProcess> {
  const servicePort = port ?? (await freePort());
  const fd = logFile === undefined ? undefined : openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd,
      env: { ...(baseEnv ?? baseEnvironment()), PORT: String(servicePort), ...env },
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const service = new ServiceProcess(name, servicePort, child);
  if (waitUntilStarted && logFile !== undefined) {
    await waitUntilHealthy(service).catch((error: Error) => {
      throw new Error(`${error.message}; see ${logFile}`);
    });
  } else if (waitUntilStarted) {
    // Generous: on a busy 2-core machine a service can take many seconds to load.
    await service.waitForLog((line) => line.message === 'Service started', STARTUP_TIMEOUT_MS);
  }
  return service;
}

export interface Chain {
  dieService: ServiceProcess;
  diceRoller: ServiceProcess;
  frontend: ServiceProcess;
  all: ServiceProcess[];
  stop(): Promise<void>;
}

/** How every service of a chain is started, besides its wiring (see StartOptions). */
export interface ChainOptions {
  root?: string;
  baseEnv?: Record<string, string>;
  nodeFlags?: (name: ServiceName) => readonly string[];
  /** Each service's output file, for the benchmark. */
  logFile?: (name: ServiceName) => string;
}

/**
 * The three services wired to each other on free loopback ports, started side by
 * side: what the end-to-end tests and the benchmark run.
 */
export async function startChain(
  env: Record<string, string> = {},
  perService: Partial<Record<ServiceName, Record<string, string>>> = {},
  { root, baseEnv, nodeFlags, logFile }: ChainOptions = {},
): Promise<Chain> {
  const [diePort, rollerPort, frontendPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const dieServiceUrl = `http://127.0.0.1:${diePort}`;
  const diceRollerUrl = `http://127.0.0.1:${rollerPort}`;
  const start = (name: ServiceName, port: number, wiring: Record<string, string>) =>
    startService(name, {
      port,
      env: { ...wiring, ...env, ...perService[name] },
      ...(root === undefined ? {} : { root }),
      ...(baseEnv === undefined ? {} : { baseEnv }),
      ...(nodeFlags === undefined ? {} : { nodeFlags: nodeFlags(name) }),
      ...(logFile === undefined ? {} : { logFile: logFile(name) }),
    });
  const [dieService, diceRoller, frontend] = await Promise.all([
    start('die-service', diePort, {}),
    start('dice-roller', rollerPort, { DIE_SERVICE_URL: dieServiceUrl }),
    start('frontend', frontendPort, { DIE_SERVICE_URL: dieServiceUrl, DICE_ROLLER_URL: diceRollerUrl }),
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

/** A chain whose spans go to its own OTLP receiver, for tests that look at the traces; `stop()` stops both. */
export async function startTracedChain(
  env: Record<string, string> = {},
  perService: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Chain & { receiver: OtlpReceiver }> {
  const receiver = new OtlpReceiver();
  const endpoint = await receiver.start();
  try {
    const chain = await startChain({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env }, perService);
    return {
      ...chain,
      receiver,
      stop: async () => {
        await chain.stop();
        await receiver.stop();
      },
    };
  } catch (error) {
    await receiver.stop();
    throw error;
  }
}

/**
 * The fault lab's two figures, measured on a real die-service (after `npm run build`):
 *
 *   node fault-lab/scripts/figures.mts [--rounds 20] [--seconds 10] [--baseline DIR]
 *
 * 1. Time from editing the flag file to the change taking effect: die-service-failing
 *    switched on (then off) by replacing the file as `npm run fault` does, then
 *    /dice?identifier=fair polled every 5 ms until it answers 500 (then 200). With the
 *    default FAULT_FLAGS_POLL_MS (1000).
 * 2. CPU per request of /dice?identifier=fair under a closed loop of 16 connections
 *    (autocannon), from the process's own CPU time (/proc, so Linux only), for:
 *    every fault off (as shipped: no flag is evaluated); the four die-service flags
 *    "on" with value 0 (no behaviour change, four OpenFeature evaluations per
 *    request: what the lab would cost without its watcher's shortcut); and, with
 *    --baseline DIR, the die-service of another checkout built without the fault lab.
 *    Rounds are interleaved; the median is reported. Tracing is off
 *    (OTEL_TRACES_EXPORTER=none) so that the flag cost is not lost in the SDK's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import flagFile from '../dist/flag-file.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    baseline: { type: 'string' },
  },
});
const directory = mkdtempSync(path.join(tmpdir(), 'fault-figures-'));
const file = path.join(directory, 'faults.flagd.json');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

interface Service {
  child: ChildProcess;
  url: string;
}

async function startDieService(repo: string): Promise<Service> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=16', '--require', '@dice-roller/telemetry/register', 'dist/server.js'],
    {
      cwd: path.join(repo, 'die-service'),
      env: { PATH: process.env.PATH, PORT: String(port), FAULT_FLAGS_FILE: file, OTEL_TRACES_EXPORTER: 'none' },
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, url };
    await sleep(50);
  }
  throw new Error(`die-service from ${repo} did not start`);
}

function stop({ child }: Service): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function writeFaults(on: Record<string, number>): void {
  const document = flagFile.allFaultsOff();
  for (const [fault, value] of Object.entries(on)) {
    document.flags[fault] = { state: 'ENABLED', variants: { off: 0, on: value }, defaultVariant: 'on' };
  }
  flagFile.writeFlagDocument(file, document);
}

async function status(url: string): Promise<number> {
  const response = await fetch(`${url}/dice?identifier=fair`);
  await response.arrayBuffer();
  return response.status;
}

/** Milliseconds from writing the file until the service answers `expected`. */
async function timeToEffect(url: string, on: Record<string, number>, expected: number): Promise<number> {
  const start = performance.now();
  writeFaults(on);
  while ((await status(url)) !== expected) await sleep(5);
  return performance.now() - start;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return `min ${at(0).toFixed(0)}  median ${at(0.5).toFixed(0)}  max ${at(1).toFixed(0)} ms`;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What autocannon reports (its typings, bench/lib/autocannon.d.ts, name only the function). */
type LoadResult = Parameters<Parameters<typeof autocannon>[1]>[1];

async function cpuPerRequest(service: Service, seconds: number): Promise<number> {
  const pid = service.child.pid as number;
  const before = cpuSeconds(pid);
  const result = await new Promise<LoadResult>((resolve, reject) => {
    autocannon({ url: `${service.url}/dice?identifier=fair`, connections: 16, duration: seconds }, (error, r) =>
      error === null ? resolve(r) : reject(error),
    );
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error('requests failed during the load');
  return ((cpuSeconds(pid) - before) * 1e6) / result['2xx'];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const rounds = Number(options.rounds);
  const seconds = Number(options.seconds);
  writeFaults({});
  const service = await startDieService(REPO_ROOT);
  const on: number[] = [];
  const off: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Each edit at a random point of the poll cycle, as a person's would be.
      await sleep(Math.random() * 1000);
      on.push(await timeToEffect(service.url, { 'die-service-failing': 1 }, 500));
      await sleep(Math.random() * 1000);
      off.push(await timeToEffect(service.url, {}, 200));
    }
  } finally {
    await stop(service);
  }
  console.log(`1. From editing the file to the change taking effect (${rounds} edits each, FAULT_FLAGS_POLL_MS=1000):`);
  console.log(`   switched on:  ${summary(on)}`);
  console.log(`   switched off: ${summary(off)}`);

  const zeroOn = {
    'die-service-slow': 0,
    'die-service-failing': 0,
    'die-service-hang': 0,
    'die-service-bad-deploy': 0,
  };
  const variants: { name: string; repo: string; faults: Record<string, number> }[] = [
    { name: 'every fault off (as shipped)', repo: REPO_ROOT, faults: {} },
    { name: 'four flags evaluated per request', repo: REPO_ROOT, faults: zeroOn },
  ];
  if (options.baseline !== undefined) {
    variants.push({ name: 'without the fault lab', repo: path.resolve(options.baseline), faults: {} });
  }
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < 3; round++) {
    for (const variant of variants) {
      writeFaults(variant.faults);
      const target = await startDieService(variant.repo);
      try {
        await cpuPerRequest(target, 2); // warm-up
        samples.get(variant.name)?.push(await cpuPerRequest(target, seconds));
      } finally {
        await stop(target);
      }
    }
  }
  console.log(`2. die-service CPU per GET /dice?identifier=fair (16 connections, ${seconds} s, median of 3 rounds):`);
  for (const [name, values] of samples) {
    console.log(
      `   ${name.padEnd(34)} ${median(values).toFixed(1)} µs  (rounds: ${values.map((v) => v.toFixed(1)).join(', ')})`,
    );
  }
}

try {
  await main();
} finally {
  rmSync(directory, { recursive: true, force: true });
}

/**
 * `npm run bench:traffic-gen`: how fast can traffic-gen drive the system, and what
 * does that cost traffic-gen?
 *
 * Starts die-service, dice-roller and frontend as `npm start` does (on free ports,
 * so a running system is left alone) with ROLL_DELAY_MAX_MS=0, plus an OTLP
 * receiver that accepts their spans as a collector would and only counts them.
 * Then runs traffic-gen's open model at increasing rates and stops at the first
 * rate the system does not sustain. For each rate it prints the achieved rate,
 * latency, failures that mean overload, and the CPU each process used (% of one
 * core), traffic-gen's included.
 *
 * A rate is sustained when the achieved rate is at least 95% of the target, no
 * arrival was dropped, no request timed out or found a service unavailable
 * (timeout, connection_error, 503, 504), and p99 latency stays under --max-p99.
 * (500s are not overload: the risky and extreme dice fail by design.) The rule and
 * the options are in bench/lib/rate-ramp.ts.
 *
 * Everything it starts is stopped at the end, on a failure, and on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OtlpReceiver } from '../test/support/otlp-receiver';
import {
  REPO_ROOT,
  type ServiceProcess,
  startChain,
  stopAllProcesses,
  trackProcess,
} from '../test/support/service-process';
import { nodeCommand } from '../test/support/start-script';
import type { Summary } from '../traffic-gen/src/summary';
import { baseEnvironment } from './lib/chains';
import { readCommandLine } from './lib/command-line';
import { loadAverage, machineCpu, processCpuSeconds } from './lib/proc';
import {
  isSustained,
  overloadFailures,
  parseRampOptions,
  percent,
  type RampOptions,
  TABLE_HEADER,
  tableRow,
  USAGE,
} from './lib/rate-ramp';

/** The environment `npm run bench` starts its processes with, so a developer's OTEL_* cannot change what is measured. */
const BASE_ENV = baseEnvironment();

const CPUS = os.cpus().length;

function log(message = ''): void {
  process.stdout.write(`${message}\n`);
}

/**
 * One run of traffic-gen as `npm start -w traffic-gen` runs it (telemetry bootstrap
 * first, logs on stderr), in its own process; returns its --json summary.
 */
async function runTrafficGen(args: string[], otlpEndpoint: string): Promise<Summary> {
  const start = nodeCommand('traffic-gen');
  const child = spawn(process.execPath, [...start.args, ...args, '--json'], {
    cwd: path.join(REPO_ROOT, 'traffic-gen'),
    env: { ...BASE_ENV, ...start.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackProcess(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  // 3: no roll succeeded, which at a high rate is overload; the summary says so.
  if (code !== 0 && code !== 3) {
    throw new Error(`traffic-gen ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.trim()}`);
  }
  return JSON.parse(stdout) as Summary;
}

/** CPU seconds each service has used so far, in the table's order. */
function servicesCpu(services: ServiceProcess[]): number[] {
  return services.map((service) => processCpuSeconds(service.pid) ?? Number.NaN);
}

async function ramp(options: RampOptions, frontendUrl: string, services: ServiceProcess[], otlpEndpoint: string) {
  const duration = String(options.durationSeconds);
  log('Warming up (JIT, connection pools) ...');
  await runTrafficGen(['--url', frontendUrl, '--rate', '100', '--duration', '3'], otlpEndpoint);

  log();
  log(
    `${CPUS} CPUs, load average ${loadAverage()} before the runs, ${process.version}, ROLL_DELAY_MAX_MS=0, ` +
      `${duration} s per rate, all dice`,
  );
  log(TABLE_HEADER);
  let best: { rate: number; summary: Summary } | undefined;
  for (const rate of options.rates) {
    const cpuBefore = servicesCpu(services);
    const machineBefore = machineCpu();
    const startedAt = performance.now();
    const summary = await runTrafficGen(
      ['--url', frontendUrl, '--rate', String(rate), '--duration', duration],
      otlpEndpoint,
    );
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const cpuAfter = servicesCpu(services);
    const machineAfter = machineCpu();
    // Busy over total CPU time of all cores, as cores: at most CPUS.
    const machineCores =
      (CPUS * (machineAfter.busySeconds - machineBefore.busySeconds)) /
      (machineAfter.totalSeconds - machineBefore.totalSeconds);
    log(
      tableRow([
        rate,
        summary.rate.achieved,
        summary.latency_ms.p50,
        summary.latency_ms.p99,
        overloadFailures(summary),
        summary.dropped,
        percent(summary.own_usage.cpu_share),
        percent(summary.own_usage.event_loop_utilization),
        ...cpuAfter.map((after, i) => percent((after - (cpuBefore[i] ?? 0)) / wallSeconds)),
        percent(machineCores),
      ]),
    );
    if (!isSustained(summary, rate, options.maxP99Ms)) break;
    best = { rate, summary };
  }

  log();
  if (best === undefined) {
    log(`No rate in (${options.rates.join(' ')}) was sustained.`);
  } else {
    const usage = best.summary.own_usage;
    log(
      `Highest sustained rate: ${best.rate} req/s; traffic-gen used ${percent(usage.cpu_share)} of one core ` +
        `(its event loop busy ${percent(usage.event_loop_utilization)}) at that rate.`,
    );
  }
  log("CPU columns: % of one core over the run; 'machine' is every process on the machine together");
  log(`(at most ${100 * CPUS}%), so what the other columns leave out is load from elsewhere.`);
  log("tg_loop: how busy traffic-gen's event loop was; near 100% traffic-gen would be the bottleneck.");
  log('Reproduce one step against a system started with ROLL_DELAY_MAX_MS=0:');
  log(`  npm run traffic -- --rate ${best?.rate ?? 100} --duration ${duration} --json`);
  log(
    `Reproduce the whole benchmark: npm run bench:traffic-gen -- --rates ${options.rates.join(',')} ` +
      `--duration ${duration} --max-p99 ${options.maxP99Ms}`,
  );
}

async function main(): Promise<void> {
  const options = readCommandLine(parseRampOptions, USAGE);
  if (options === undefined) return;

  const receiver = new OtlpReceiver({ keepSpans: false });
  const otlpEndpoint = await receiver.start();
  // The services' output goes to files, as a container runtime collects it; kept if the run fails.
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'traffic-gen-rate-'));
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping everything the benchmark started\n`);
    void stopAllProcesses()
      .then(() => receiver.stop())
      .finally(() => {
        rmSync(logDir, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const chain = await startChain(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, ROLL_DELAY_MAX_MS: '0' },
      {},
      { baseEnv: BASE_ENV, logFile: (name) => path.join(logDir, `${name}.log`) },
    );
    await ramp(options, chain.frontend.url, [chain.frontend, chain.diceRoller, chain.dieService], otlpEndpoint);
  } catch (error) {
    // A run cut off by Ctrl-C is no failure; `interrupt` exits.
    if (interrupted) return;
    process.stderr.write(`the services' logs are in ${logDir}\n`);
    throw error;
  } finally {
    await stopAllProcesses();
    await receiver.stop();
  }
  rmSync(logDir, { recursive: true, force: true });
}

main().catch(async (error: unknown) => {
  process.stderr.write(
    `traffic-gen-rate failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  await stopAllProcesses();
  process.exit(1);
});

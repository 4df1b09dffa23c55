/**
 * `npm run bench`: the project's CPU per roll, throughput and latency against
 * yardsticks that show what the machine, Express and the stock SDK cost. See
 * bench/RESULTS.md for how to read what it prints, and --help for the options.
 * Everything it starts listens on 127.0.0.1 and is stopped at the end, on a
 * failure, and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OtlpReceiver } from '../test/support/otlp-receiver';
import { REPO_ROOT, stopAllProcesses as stopAll } from '../test/support/service-process';
import { type Chain, startChain, TRACED_VARIANTS, VARIANT_NAMES, type VariantId } from './lib/chains';
import { readCommandLine } from './lib/command-line';
import { formatSummary, type ProfileSummary, summariseProfile } from './lib/cpu-profile';
import { measureRun, type RunRecord } from './lib/measure';
import { type BenchOptions, parseOptions, type Scenario, USAGE } from './lib/options';
import { describeMachine, loadAverage } from './lib/proc';
import {
  aggregate,
  cpuTable,
  failedCount,
  rateTable,
  ratioTable,
  serviceTable,
  targets,
  targetTable,
  throughputTable,
  usersRows,
  usersTable,
} from './lib/report';

/** The services' default ROLL_DELAY_MAX_MS is 1000: a uniform delay of 0.5 s on average. */
const DEFAULT_MEAN_DELAY_SECONDS = 0.5;

/**
 * Stacks worth timing inclusively in a profile: logging, span processing and
 * export, the SDK's own metrics, prom-client. (Middleware such as helmet calls the
 * rest of the chain from inside itself, so its inclusive time says nothing.)
 */
const PROFILE_PATTERNS = [
  /node_modules\/(pino|sonic-boom|pino-std-serializers|@opentelemetry\/instrumentation-pino)\//,
  /node_modules\/@opentelemetry\/(sdk-trace|sdk-trace-base|otlp-exporter-base|otlp-transformer|exporter-trace-otlp-[a-z]+)\//,
  /node_modules\/@opentelemetry\/sdk-metrics\//,
  /node_modules\/prom-client\//,
];

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function resolvedCommand(options: BenchOptions): string {
  const env = Object.entries(options.serviceEnv).map(([key, value]) => `--env ${shellWord(`${key}=${value}`)}`);
  const has = (scenario: Scenario) => options.scenarios.includes(scenario);
  const args = options.profile
    ? [
        '--profile',
        `--variants ${options.variants.join(',')}`,
        `--concurrency ${options.concurrency.join(',')}`,
        `--duration ${options.durationSeconds}`,
        `--warmup ${options.warmupSeconds}`,
      ]
    : [
        `--scenarios ${options.scenarios.join(',')}`,
        `--variants ${options.variants.join(',')}`,
        `--warmup ${options.warmupSeconds}`,
        `--initial-warmup ${options.initialWarmupSeconds}`,
        ...(has('throughput')
          ? [
              `--duration ${options.durationSeconds}`,
              `--concurrency ${options.concurrency.join(',')}`,
              `--rounds ${options.rounds}`,
            ]
          : []),
        ...(has('rate') ? [`--rate ${options.ratePerSecond}`, `--rate-duration ${options.rateDurationSeconds}`] : []),
        ...(has('users')
          ? [
              `--users ${options.users.join(',')}`,
              `--users-duration ${options.usersDurationSeconds}`,
              `--users-variants ${options.usersVariants.join(',')}`,
            ]
          : []),
      ];
  return `npm run bench -- ${[...args, ...env].join(' ')}`;
}

function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

function runLabel(record: RunRecord): string {
  if (record.scenario === 'users') return `N=${record.connections}`;
  return record.scenario === 'rate' ? 'rate' : `c=${record.connections}`;
}

function oneLine(record: RunRecord): string {
  const { load } = record;
  const lags = record.services.map((s) => (s.lagP99Ms === undefined ? 'n/a' : s.lagP99Ms.toFixed(1))).join('/');
  return (
    `  ${runLabel(record)} variant ${record.variant}: ` +
    `${load.rps.toFixed(0)} req/s, p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, ` +
    `failed ${failedCount(load)}, loop p99 ${lags} ms, ` +
    `load-gen ${(100 * record.loadCpuCores).toFixed(0)} % CPU, foreign ${(100 * record.foreignCpuCores).toFixed(0)} %`
  );
}

/** Rolls through each variant outside the measured runs, for the span accounting. */
const initialWarmupRolls = new Map<VariantId, number>();

interface Context {
  options: BenchOptions;
  outDir: string;
  logDir: string;
  /** Where each traced variant sends its spans: a sink of its own, so each is counted apart. */
  otlpEndpoints: Map<VariantId, string>;
}

/** Connections the open-loop load may open: far more than a rate well below saturation keeps busy. */
const RATE_CONNECTIONS = 100;

/**
 * The throughput and rate scenarios, on chains started once, all running side by
 * side with the roll delay at 0: first each chain's initial warm-up, then the
 * closed-loop runs interleaved per round and concurrency, then one open-loop run
 * per variant at the fixed rate.
 */
async function delayFreeScenarios(context: Context): Promise<{ throughput: RunRecord[]; rate: RunRecord[] }> {
  const { options } = context;
  const chains = new Map<VariantId, Chain>();
  const throughput: RunRecord[] = [];
  const rate: RunRecord[] = [];
  try {
    for (const variant of options.variants) {
      log(`starting variant ${variant} (${VARIANT_NAMES[variant]}) with ROLL_DELAY_MAX_MS=0`);
      chains.set(
        variant,
        await startChain(variant, {
          rollDelayMaxMs: 0,
          logDir: context.logDir,
          label: `v${variant}`,
          ...endpointOption(context, variant),
          env: options.serviceEnv,
        }),
      );
    }
    const pidsBesides = (chain: Chain) => () =>
      [...chains.values()]
        .filter((other) => other !== chain)
        .flatMap((other) => other.services.map((s) => s.process.pid));
    if (options.initialWarmupSeconds > 0) {
      for (const [variant, chain] of chains) {
        log(`warming variant ${variant} up: ${options.initialWarmupSeconds} s at c=50`);
        const warmup = await measureRun({
          chain,
          scenario: 'throughput',
          connections: 50,
          round: 0,
          warmupSeconds: 0,
          durationSeconds: options.initialWarmupSeconds,
          otherPids: pidsBesides(chain),
        });
        initialWarmupRolls.set(variant, (initialWarmupRolls.get(variant) ?? 0) + warmup.load.completed);
      }
    }
    if (options.scenarios.includes('throughput')) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const connections of options.concurrency) {
          for (const variant of options.variants) {
            const chain = chains.get(variant) as Chain;
            const record = await measureRun({
              chain,
              scenario: 'throughput',
              connections,
              round,
              warmupSeconds: options.warmupSeconds,
              durationSeconds: options.durationSeconds,
              otherPids: pidsBesides(chain),
            });
            throughput.push(record);
            log(`${oneLine(record)} [round ${round}/${options.rounds}]`);
          }
        }
      }
    }
    if (options.scenarios.includes('rate')) {
      for (const variant of options.variants) {
        const chain = chains.get(variant) as Chain;
        const record = await measureRun({
          chain,
          scenario: 'rate',
          connections: RATE_CONNECTIONS,
          ratePerSecond: options.ratePerSecond,
          round: 1,
          warmupSeconds: options.warmupSeconds,
          durationSeconds: options.rateDurationSeconds,
          otherPids: pidsBesides(chain),
        });
        rate.push(record);
        log(`${oneLine(record)} [${options.ratePerSecond} due per second]`);
      }
    }
  } finally {
    await Promise.all([...chains.values()].map((chain) => chain.stop()));
  }
  return { throughput, rate };
}

function endpointOption(context: Context, variant: VariantId): { otlpEndpoint?: string } {
  const otlpEndpoint = context.otlpEndpoints.get(variant);
  return otlpEndpoint === undefined ? {} : { otlpEndpoint };
}

async function usersScenario(context: Context): Promise<RunRecord[]> {
  const { options } = context;
  const records: RunRecord[] = [];
  for (const variant of options.usersVariants) {
    log(`starting variant ${variant} (${VARIANT_NAMES[variant]}) with the default roll delay (0 to 1 s)`);
    const chain = await startChain(variant, {
      rollDelayMaxMs: undefined,
      logDir: context.logDir,
      label: `users-v${variant}`,
      ...endpointOption(context, variant),
      env: options.serviceEnv,
    });
    try {
      for (const users of options.users) {
        const record = await measureRun({
          chain,
          scenario: 'users',
          connections: users,
          round: 1,
          warmupSeconds: Math.min(options.warmupSeconds, 2),
          durationSeconds: options.usersDurationSeconds,
          otherPids: () => [],
        });
        records.push(record);
        log(oneLine(record));
      }
    } finally {
      await chain.stop();
    }
  }
  return records;
}

async function profileScenario(context: Context): Promise<{ records: RunRecord[]; summaries: ProfileSummary[] }> {
  const { options } = context;
  const records: RunRecord[] = [];
  const summaries: ProfileSummary[] = [];
  for (const variant of options.variants) {
    for (const connections of options.concurrency) {
      const profileDir = path.join(context.outDir, 'profiles', `v${variant}-c${connections}`);
      log(`profiling variant ${variant} (${VARIANT_NAMES[variant]}) at c=${connections} into ${profileDir}`);
      const chain = await startChain(variant, {
        rollDelayMaxMs: 0,
        logDir: context.logDir,
        label: `profile-v${variant}-c${connections}`,
        ...endpointOption(context, variant),
        env: options.serviceEnv,
        nodeFlags: (service) => ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${service}.cpuprofile`],
      });
      let record: RunRecord;
      try {
        record = await measureRun({
          chain,
          scenario: 'throughput',
          connections,
          round: 1,
          warmupSeconds: options.warmupSeconds,
          durationSeconds: options.durationSeconds,
          otherPids: () => [],
        });
        records.push(record);
        log(oneLine(record));
      } finally {
        // The profiles are written when the services exit.
        await chain.stop();
      }
      for (const service of chain.services) {
        const file = path.join(profileDir, `${service.name}.cpuprofile`);
        let summary = summariseProfile(file, { patterns: PROFILE_PATTERNS, window: record.windowUs });
        if (summary.busyMs === 0) {
          log(`  ${file}: no samples inside the measured window; summarising the whole profile`);
          summary = summariseProfile(file, { patterns: PROFILE_PATTERNS });
        }
        summaries.push(summary);
      }
    }
  }
  return { records, summaries };
}

async function main(): Promise<void> {
  const options = readCommandLine(parseOptions, USAGE);
  if (options === undefined) return;

  const started = new Date();
  const outDir = path.resolve(
    options.outDir ?? path.join(REPO_ROOT, 'bench', 'out', started.toISOString().replace(/[:.]/g, '-')),
  );
  const logDir = path.join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const command = resolvedCommand(options);
  const machine = describeMachine();
  const revision = gitRevision();
  const loadBefore = loadAverage();
  log(
    `machine: ${machine}\nrevision: ${revision}\nload average before: ${loadBefore}\nreproduce: ${command}\nresults: ${outDir}`,
  );

  const sinks = new Map(TRACED_VARIANTS.map((variant) => [variant, new OtlpReceiver({ keepSpans: false })]));
  const stopSinks = () => Promise.all([...sinks.values()].map((sink) => sink.stop()));
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping everything the benchmark started`);
    void stopAll()
      .then(stopSinks)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const otlpEndpoints = new Map<VariantId, string>();
  for (const [variant, sink] of sinks) otlpEndpoints.set(variant, await sink.start());
  const context: Context = { options, outDir, logDir, otlpEndpoints };
  const sections: string[] = [];
  const header = [
    `# Benchmark run ${started.toISOString()}`,
    '',
    `- machine: ${machine}`,
    `- revision: ${revision}`,
    `- load average (1, 5, 15 min) before: ${loadBefore}`,
    `- command: \`${command}\``,
    '',
  ].join('\n');

  let throughputRecords: RunRecord[] = [];
  let rateRecords: RunRecord[] = [];
  let userRecords: RunRecord[] = [];
  let summaries: ProfileSummary[] = [];
  try {
    if (options.profile) {
      const profiled = await profileScenario(context);
      throughputRecords = profiled.records;
      summaries = profiled.summaries;
    } else {
      if (options.scenarios.includes('throughput') || options.scenarios.includes('rate')) {
        ({ throughput: throughputRecords, rate: rateRecords } = await delayFreeScenarios(context));
      }
      if (options.scenarios.includes('users')) userRecords = await usersScenario(context);
    }
  } finally {
    await stopAll();
    await stopSinks();
  }

  const rollsThrough = (variant: VariantId) =>
    [...throughputRecords, ...rateRecords, ...userRecords]
      .filter((record) => record.variant === variant)
      .reduce(
        (sum, record) => sum + record.load.completed + record.load.warmupCompleted,
        initialWarmupRolls.get(variant) ?? 0,
      );
  const aggregates = aggregate(throughputRecords);
  if (throughputRecords.length > 0) {
    sections.push(
      `## Roll delay 0: throughput and latency (${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up, each chain first warmed ${options.initialWarmupSeconds} s, ${options.rounds} round(s), interleaved)`,
      '',
      '### The ratios, from CPU per roll',
      '',
      ratioTable(aggregates, throughputRecords, options.concurrency),
      '',
      '### CPU ms per roll over the three services',
      '',
      cpuTable(aggregates, options.concurrency),
      '',
      '### Throughput and latency at saturation',
      '',
      throughputTable(aggregates),
      '',
      '### Per service: CPU, event-loop delay under load, memory after the run',
      '',
      serviceTable(aggregates),
      '',
    );
  }
  if (rateRecords.length > 0) {
    sections.push(
      `## Roll delay 0: a fixed rate of ${options.ratePerSecond} rolls/s, open loop (${options.rateDurationSeconds} s measured per variant, one after the other)`,
      '',
      rateTable(rateRecords, options.ratePerSecond),
      '',
    );
  }
  const users = usersRows(userRecords, DEFAULT_MEAN_DELAY_SECONDS);
  if (users.length > 0) {
    sections.push(
      `## Default roll delay (uniform 0 to 1 s): N simulated users, ${options.usersDurationSeconds} s each`,
      '',
      usersTable(users),
      '',
    );
  }
  for (const [variant, { received }] of sinks) {
    const rolls = rollsThrough(variant);
    if (rolls === 0) continue;
    sections.push(
      `Tracing was live in variant ${variant}: its OTLP sink received ${received.spans} spans in ${received.exports} exports ` +
        `(${(received.bytes / 1024 ** 2).toFixed(1)} MiB, ${received.rejected} rejected) for ${rolls} rolls ` +
        `(${(received.spans / rolls).toFixed(2)} spans per roll).`,
      '',
    );
  }
  if (!options.profile) {
    sections.push('## Targets', '', targetTable(targets(aggregates, throughputRecords, rateRecords, users)), '');
  }
  for (const summary of summaries) sections.push('```', formatSummary(summary), '```', '');
  sections.push(`Load average after: ${loadAverage()}. Logs: ${logDir}`, '', `Reproduce: \`${command}\``, '');

  const report = `${header}\n${sections.join('\n')}`;
  writeFileSync(path.join(outDir, 'report.md'), report);
  const sinkCounts = Object.fromEntries([...sinks].map(([variant, sink]) => [variant, { ...sink.received }]));
  writeFileSync(
    path.join(outDir, 'results.json'),
    `${JSON.stringify({ started, machine, revision, command, options, throughputRecords, rateRecords, userRecords, sinks: sinkCounts }, null, 2)}\n`,
  );
  process.stdout.write(report);
}

main().catch(async (error: unknown) => {
  log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopAll();
  process.exit(1);
});

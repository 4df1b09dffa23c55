/**
 * `npm run bench`: the project's throughput and latency against this machine's
 * limit. See bench/RESULTS.md for how to read what it prints, and --help for the
 * options. Everything it starts listens on 127.0.0.1 and is stopped at the end, on
 * a failure, and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OtlpReceiver } from '../test/support/otlp-receiver';
import { REPO_ROOT, stopAllProcesses as stopAll } from '../test/support/service-process';
import { type Chain, startChain, VARIANT_NAMES, type VariantId } from './lib/chains';
import { formatSummary, type ProfileSummary, summariseProfile } from './lib/cpu-profile';
import { measureRun, type RunRecord } from './lib/measure';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './lib/options';
import { describeMachine } from './lib/proc';
import {
  aggregate,
  floors,
  floorTable,
  ratioTable,
  serviceTable,
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

function resolvedCommand(options: BenchOptions): string {
  const env = Object.entries(options.serviceEnv).map(([key, value]) => `--env ${key}=${value}`);
  const args = options.profile
    ? [
        '--profile',
        `--variants ${options.variants.join(',')}`,
        `--concurrency ${options.concurrency.join(',')}`,
        `--duration ${options.durationSeconds}`,
        `--warmup ${options.warmupSeconds}`,
      ]
    : [
        `--duration ${options.durationSeconds}`,
        `--warmup ${options.warmupSeconds}`,
        `--initial-warmup ${options.initialWarmupSeconds}`,
        `--concurrency ${options.concurrency.join(',')}`,
        `--variants ${options.variants.join(',')}`,
        `--rounds ${options.rounds}`,
        ...(options.usersScenario
          ? [
              `--users ${options.users.join(',')}`,
              `--users-duration ${options.usersDurationSeconds}`,
              `--users-variants ${options.usersVariants.join(',')}`,
            ]
          : ['--no-users']),
        ...(options.throughput ? [] : ['--users-only']),
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

function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function oneLine(record: RunRecord): string {
  const { load } = record;
  const lags = record.services.map((s) => (s.lagP99Ms === undefined ? 'n/a' : s.lagP99Ms.toFixed(1))).join('/');
  return (
    `  ${record.scenario === 'users' ? 'N' : 'c'}=${record.connections} variant ${record.variant}: ` +
    `${load.rps.toFixed(0)} req/s, p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, ` +
    `failed ${load.non2xx + load.errors + load.timeouts}, loop p99 ${lags} ms, ` +
    `load-gen ${(100 * record.loadCpuCores).toFixed(0)} % CPU, foreign ${(100 * record.foreignCpuCores).toFixed(0)} %`
  );
}

/** Rolls through each variant outside the measured runs, for the span accounting. */
const initialWarmupRolls = new Map<VariantId, number>();

interface Context {
  options: BenchOptions;
  outDir: string;
  logDir: string;
  /** Where the project's services (variants 1 and 2) send their spans. */
  otlpEndpoint: string;
  /** Where the traced yardstick (variant 4) sends its spans, so each is counted apart. */
  yardstickOtlpEndpoint: string;
}

function otlpEndpointFor(context: Context, variant: VariantId): string {
  return variant === 4 ? context.yardstickOtlpEndpoint : context.otlpEndpoint;
}

async function throughputScenario(context: Context): Promise<RunRecord[]> {
  const { options } = context;
  const chains = new Map<VariantId, Chain>();
  const records: RunRecord[] = [];
  try {
    for (const variant of options.variants) {
      log(`starting variant ${variant} (${VARIANT_NAMES[variant]}) with ROLL_DELAY_MAX_MS=0`);
      chains.set(
        variant,
        await startChain(variant, {
          rollDelayMaxMs: 0,
          logDir: context.logDir,
          label: `v${variant}`,
          otlpEndpoint: otlpEndpointFor(context, variant),
          env: options.serviceEnv,
        }),
      );
    }
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
          otherPids: () => [],
        });
        initialWarmupRolls.set(variant, (initialWarmupRolls.get(variant) ?? 0) + warmup.load.completed);
      }
    }
    const pidsBesides = (chain: Chain) => () =>
      [...chains.values()]
        .filter((other) => other !== chain)
        .flatMap((other) => other.services.map((s) => s.process.pid));
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
          records.push(record);
          log(`${oneLine(record)} [round ${round}/${options.rounds}]`);
        }
      }
    }
  } finally {
    await Promise.all([...chains.values()].map((chain) => chain.stop()));
  }
  return records;
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
      otlpEndpoint: otlpEndpointFor(context, variant),
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
        otlpEndpoint: otlpEndpointFor(context, variant),
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

function sinkCounts(sink: OtlpReceiver): { spans: number; exports: number; bytes: number; rejected: number } {
  return { ...sink.received };
}

async function main(): Promise<void> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      log(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }

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

  const sink = new OtlpReceiver({ keepSpans: false });
  const yardstickSink = new OtlpReceiver({ keepSpans: false });
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping everything the benchmark started`);
    void stopAll()
      .then(() => Promise.all([sink.stop(), yardstickSink.stop()]))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const context: Context = {
    options,
    outDir,
    logDir,
    otlpEndpoint: await sink.start(),
    yardstickOtlpEndpoint: await yardstickSink.start(),
  };
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
  let userRecords: RunRecord[] = [];
  let summaries: ProfileSummary[] = [];
  try {
    if (options.profile) {
      const profiled = await profileScenario(context);
      throughputRecords = profiled.records;
      summaries = profiled.summaries;
    } else {
      if (options.throughput) throughputRecords = await throughputScenario(context);
      if (options.usersScenario) userRecords = await usersScenario(context);
    }
  } finally {
    await stopAll();
    await Promise.all([sink.stop(), yardstickSink.stop()]);
  }

  const rollsThrough = (variant: VariantId) =>
    [...throughputRecords, ...userRecords]
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
      throughputTable(aggregates),
      '',
      '### Ratios',
      '',
      ratioTable(aggregates, options.concurrency),
      '',
      '### Per service: CPU, event-loop delay under load, memory after the run',
      '',
      serviceTable(aggregates),
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
  for (const [variant, { received }] of [
    [1, sink],
    [4, yardstickSink],
  ] as const) {
    const rolls = rollsThrough(variant);
    if (rolls === 0) continue;
    sections.push(
      `Tracing was live in variant ${variant}: its OTLP sink received ${received.spans} spans in ${received.exports} exports ` +
        `(${(received.bytes / 1024 ** 2).toFixed(1)} MiB, ${received.rejected} rejected) for ${rolls} rolls ` +
        `(${(received.spans / rolls).toFixed(2)} spans per roll).`,
      '',
    );
  }
  if (!options.profile) sections.push('## Floors of issue 8', '', floorTable(floors(aggregates, users)), '');
  for (const summary of summaries) sections.push('```', formatSummary(summary), '```', '');
  sections.push(`Load average after: ${loadAverage()}. Logs: ${logDir}`, '', `Reproduce: \`${command}\``, '');

  const report = `${header}\n${sections.join('\n')}`;
  writeFileSync(path.join(outDir, 'report.md'), report);
  writeFileSync(
    path.join(outDir, 'results.json'),
    `${JSON.stringify({ started, machine, revision, command, options, throughputRecords, userRecords, sinks: { project: sinkCounts(sink), yardstick: sinkCounts(yardstickSink) } }, null, 2)}\n`,
  );
  process.stdout.write(report);
}

main().catch(async (error: unknown) => {
  log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopAll();
  process.exit(1);
});

import { parseArgs } from 'node:util';
import { DEFAULT_VARIANTS, VARIANT_IDS, type VariantId } from './chains';
import { environmentAssignments, UsageError } from './command-line';

export const SCENARIOS = ['throughput', 'rate', 'users'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: Scenario[];
  durationSeconds: number;
  warmupSeconds: number;
  /** Load on each chain once after it starts, before any measured run (JIT, heap sizing). */
  initialWarmupSeconds: number;
  concurrency: number[];
  variants: VariantId[];
  rounds: number;
  ratePerSecond: number;
  rateDurationSeconds: number;
  users: number[];
  usersDurationSeconds: number;
  usersVariants: VariantId[];
  profile: boolean;
  /** Extra environment for the project's services (variants 1, 2, 6 and 8). */
  serviceEnv: Record<string, string>;
  outDir: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

Drives the frontend's /roll?die=fair through variants of the chain:
  1  the project as shipped: full tracing to a live OTLP sink, metrics, logs to files
  2  the project with OTEL_SDK_DISABLED=true
  3  the yardstick: a bare node:http + undici keep-alive chain (bench/bare-chain)
  4  the yardstick with stock OpenTelemetry tracing (bench/bare-chain/tracing.ts):
     what the SDK alone costs here
  5  the same hops on plain Express 5, no telemetry: what the framework costs
  6  the project with head sampling (OTEL_TRACES_SAMPLER=parentbased_traceidratio,
     OTEL_TRACES_SAMPLER_ARG=0.1)
  7  (only when asked for) variant 5 with variant 4's tracing: what the SDK costs
     on Express
  8  the project with its own SDK off and variant 4's tracing instead
     (bench/bare-chain/stock-tracing-in-project.ts): what the stock SDK costs in
     the project's code, against which (1 - 2) / (8 - 2) is what the project adds
in three scenarios, roll delay 0 unless said:
  throughput  closed loop (autocannon, in its own process) at each concurrency,
              the variants interleaved (1 2 3 4 5 6 8 1 2 ...), each round
  rate        open loop: requests due at a fixed rate, well below saturation,
              against each variant in turn: the latency a user feels
  users       N simulated users with the default roll delay (0 to 1 s), variant 1

  --scenarios LIST      which scenarios, e.g. throughput,rate (default all three)
  --variants LIST       variants of the throughput and rate scenarios (default 1,2,3,4,5,6,8)
  --duration S          measured seconds per variant and concurrency (default 10;
                        15 with --profile)
  --warmup S            warm-up seconds before each measured run (default 3)
  --initial-warmup S    load each chain once for S seconds at c=50 after it starts,
                        before any measured run: CPU per roll keeps falling for the
                        first half minute of load (JIT, heap sizing) (default 20)
  --concurrency LIST    connections, e.g. 10,50,200 (default 10,50,200)
  --rounds N            repeat the interleaved sequence N times (default 1)
  --rate R              requests per second of the rate scenario (default 200)
  --rate-duration S     measured seconds per variant at that rate (default 20)
  --users LIST          simulated users for the users scenario (default 50,200,500)
  --users-duration S    measured seconds per user count (default 20)
  --users-variants LIST variants the users scenario runs against (default 1)
  --quick               short runs to check the harness: duration 3, warm-up 1,
                        initial warm-up 2, rate and users duration 8 (explicit
                        values still win)
  --profile             instead of the benchmark: run each chosen variant (default 1)
                        at each concurrency (default 50) with node --cpu-prof on every
                        service and summarise where the CPU time went
  --env KEY=VALUE       extra environment for the project's services (variants 1,
                        2, 6 and 8), repeatable: e.g. --env LOG_LEVEL=warn shows what
                        the request logs cost
  --out DIR             where results, logs and profiles go (default bench/out/<time>)
  -h, --help            this help
`;

/** Positive integers separated by commas, each once (a variant listed twice would start two chains). */
function numberList(name: string, value: string): number[] {
  const list = value.split(',').map((part) => Number(part.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new UsageError(`--${name} takes positive integers separated by commas (got "${value}")`);
  }
  return [...new Set(list)];
}

/** Seconds: a warm-up may be 0, a measured run (`positive`) may not. */
function seconds(name: string, value: string | undefined, fallback: number, positive = false): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (positive && parsed === 0)) {
    throw new UsageError(`--${name} takes ${positive ? 'a positive number of ' : ''}seconds (got "${value}")`);
  }
  return parsed;
}

function variantList(name: string, value: string): VariantId[] {
  const list = numberList(name, value);
  if (list.some((n) => !(VARIANT_IDS as readonly number[]).includes(n))) {
    throw new UsageError(`--${name} takes ${VARIANT_IDS.join(', ')}`);
  }
  return list as VariantId[];
}

function scenarioList(value: string): Scenario[] {
  const list = value.split(',').map((part) => part.trim());
  const unknown = list.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`--scenarios takes ${SCENARIOS.join(', ')} (got "${value}")`);
  }
  return SCENARIOS.filter((name) => list.includes(name));
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'initial-warmup': { type: 'string' },
      concurrency: { type: 'string' },
      variants: { type: 'string' },
      rounds: { type: 'string' },
      rate: { type: 'string' },
      'rate-duration': { type: 'string' },
      users: { type: 'string' },
      'users-duration': { type: 'string' },
      'users-variants': { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const profile = values.profile;
  const rounds = values.rounds === undefined ? 1 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds takes a positive integer`);
  const ratePerSecond = numberList('rate', values.rate ?? '200');
  if (ratePerSecond.length !== 1) throw new UsageError('--rate takes one rate');
  return {
    scenarios: profile ? ['throughput'] : scenarioList(values.scenarios ?? SCENARIOS.join(',')),
    durationSeconds: seconds('duration', values.duration, quick ? 3 : profile ? 15 : 10, true),
    warmupSeconds: seconds('warmup', values.warmup, quick ? 1 : 3),
    initialWarmupSeconds: seconds('initial-warmup', values['initial-warmup'], quick ? 2 : 20),
    concurrency: numberList('concurrency', values.concurrency ?? (profile ? '50' : '10,50,200')),
    variants: variantList('variants', values.variants ?? (profile ? '1' : DEFAULT_VARIANTS.join(','))),
    rounds,
    ratePerSecond: ratePerSecond[0] as number,
    rateDurationSeconds: seconds('rate-duration', values['rate-duration'], quick ? 8 : 20, true),
    users: numberList('users', values.users ?? '50,200,500'),
    usersDurationSeconds: seconds('users-duration', values['users-duration'], quick ? 8 : 20, true),
    usersVariants: variantList('users-variants', values['users-variants'] ?? '1'),
    profile,
    serviceEnv: environmentAssignments('env', values.env),
    outDir: values.out,
  };
}

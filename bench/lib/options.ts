import { parseArgs } from 'node:util';
import type { VariantId } from './chains';

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  /** Load on each chain once after it starts, before any measured run (JIT, heap sizing). */
  initialWarmupSeconds: number;
  concurrency: number[];
  variants: VariantId[];
  rounds: number;
  users: number[];
  usersDurationSeconds: number;
  usersVariants: VariantId[];
  throughput: boolean;
  usersScenario: boolean;
  profile: boolean;
  /** Extra environment for the project's services (variants 1 and 2). */
  serviceEnv: Record<string, string>;
  outDir: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

Drives the frontend's /roll?die=fair with autocannon (in its own process) against
four variants of the chain, interleaved per concurrency (1 2 3 4 1 2 3 4 ...):
  1  the project as shipped: full tracing to a live OTLP sink, metrics, logs to files
  2  the project with OTEL_SDK_DISABLED=true
  3  the yardstick: a bare node:http + undici keep-alive chain (bench/bare-chain)
  4  the yardstick with stock OpenTelemetry tracing (bench/bare-chain/tracing.ts):
     what the SDK alone costs here
then the simulated-users scenario (default roll delay, 0 to 1 s) against variant 1.

  --duration S          measured seconds per variant and concurrency (default 10)
  --warmup S            warm-up seconds before each measured run (default 3)
  --initial-warmup S    load each chain once for S seconds at c=50 after it starts,
                        before any measured run: CPU per roll keeps falling for the
                        first half minute of load (JIT, heap sizing) (default 20)
  --concurrency LIST    connections, e.g. 10,50,200 (default 10,50,200)
  --variants LIST       which variants, e.g. 1,3 (default 1,2,3,4)
  --rounds N            repeat the interleaved sequence N times (default 1)
  --users LIST          simulated users for the delay scenario (default 50,200,500)
  --users-duration S    measured seconds per user count (default 20)
  --users-variants LIST variants the users scenario runs against (default 1)
  --no-users            skip the users scenario
  --users-only          run only the users scenario
  --quick               short runs to check the harness: duration 3, warm-up 1,
                        users duration 8 (explicit values still win)
  --profile             instead of the benchmark: run each chosen variant (default 1)
                        at each concurrency (default 50) with node --cpu-prof on every
                        service and summarise where the CPU time went
  --env KEY=VALUE       extra environment for the project's services (variants 1
                        and 2), repeatable: e.g. --env LOG_LEVEL=warn shows what
                        the request logs cost
  --out DIR             where results, logs and profiles go (default bench/out/<time>)
  -h, --help            this help
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function numberList(name: string, value: string): number[] {
  const list = value.split(',').map((part) => Number(part.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new UsageError(`--${name} takes positive integers separated by commas (got "${value}")`);
  }
  return list;
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`--${name} takes seconds (got "${value}")`);
  return parsed;
}

function variantList(name: string, value: string): VariantId[] {
  const list = numberList(name, value);
  if (list.some((n) => n < 1 || n > 4)) throw new UsageError(`--${name} takes 1, 2, 3 and 4`);
  return list as VariantId[];
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'initial-warmup': { type: 'string' },
      concurrency: { type: 'string' },
      variants: { type: 'string' },
      rounds: { type: 'string' },
      users: { type: 'string' },
      'users-duration': { type: 'string' },
      'users-variants': { type: 'string' },
      'no-users': { type: 'boolean', default: false },
      'users-only': { type: 'boolean', default: false },
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
  if (values['no-users'] && values['users-only'])
    throw new UsageError('--no-users and --users-only exclude each other');
  return {
    durationSeconds: seconds('duration', values.duration, quick ? 3 : profile ? 15 : 10),
    warmupSeconds: seconds('warmup', values.warmup, quick ? 1 : 3),
    initialWarmupSeconds: seconds('initial-warmup', values['initial-warmup'], quick ? 2 : 20),
    concurrency: numberList('concurrency', values.concurrency ?? (profile ? '50' : '10,50,200')),
    variants: variantList('variants', values.variants ?? (profile ? '1' : '1,2,3,4')),
    rounds,
    users: numberList('users', values.users ?? '50,200,500'),
    usersDurationSeconds: seconds('users-duration', values['users-duration'], quick ? 8 : 20),
    usersVariants: variantList('users-variants', values['users-variants'] ?? '1'),
    throughput: !values['users-only'],
    usersScenario: !values['no-users'] && !profile,
    profile,
    serviceEnv: Object.fromEntries(
      values.env.map((assignment) => {
        const eq = assignment.indexOf('=');
        if (eq < 1) throw new UsageError(`--env takes KEY=VALUE (got "${assignment}")`);
        return [assignment.slice(0, eq), assignment.slice(eq + 1)];
      }),
    ),
    outDir: values.out,
  };
}

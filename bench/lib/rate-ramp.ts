/**
 * The rules of bench/traffic-gen-rate.ts that start no process: its options, when
 * a rate counts as sustained, and its table's layout.
 */
import { parseArgs } from 'node:util';
import type { Summary } from '../../traffic-gen/src/summary';
import { UsageError } from './command-line';

export interface RampOptions {
  /** Target rates in requests per second, tried in this order. */
  rates: number[];
  durationSeconds: number;
  maxP99Ms: number;
}

const DEFAULTS: RampOptions = {
  rates: [100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 1000, 1200, 1500],
  durationSeconds: 10,
  maxP99Ms: 500,
};

export const USAGE = `Usage: npm run bench:traffic-gen -- [options]

How fast can traffic-gen drive the system, and what does that cost traffic-gen?
Starts the three services with ROLL_DELAY_MAX_MS=0 on free ports, runs
traffic-gen's open model at each rate in turn and stops at the first rate the
system does not sustain: the achieved rate is under 95% of the target, an arrival
was dropped, a request timed out or found a service unavailable (timeout,
connection_error, 503, 504), or p99 latency is over --max-p99.

  --rates LIST     target rates in requests/s, in order
                   (default ${DEFAULTS.rates.join(',')})
  --duration S     seconds per rate (default ${DEFAULTS.durationSeconds})
  --max-p99 MS     highest p99 latency of a sustained rate (default ${DEFAULTS.maxP99Ms})
  -h, --help       this help
`;

function positiveNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new UsageError(`--${name} takes a positive number (got "${value}")`);
  }
  return parsed;
}

export function parseRampOptions(argv: readonly string[]): RampOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rates: { type: 'string' },
      duration: { type: 'string' },
      'max-p99': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  return {
    rates: values.rates === undefined ? DEFAULTS.rates : values.rates.split(',').map((r) => positiveNumber('rates', r)),
    durationSeconds:
      values.duration === undefined ? DEFAULTS.durationSeconds : positiveNumber('duration', values.duration),
    maxP99Ms: values['max-p99'] === undefined ? DEFAULTS.maxP99Ms : positiveNumber('max-p99', values['max-p99']),
  };
}

/** The failures that mean overload. 500s do not: the risky and extreme dice fail by design. */
const OVERLOAD_STATUSES = ['timeout', 'connection_error', '503', '504'];

export function overloadFailures(summary: Pick<Summary, 'failures_by_status'>): number {
  return OVERLOAD_STATUSES.reduce((sum, status) => sum + (summary.failures_by_status[status] ?? 0), 0);
}

/**
 * A rate is sustained when the achieved rate is at least 95% of the target, no
 * arrival was dropped, no request timed out or found a service unavailable, and
 * p99 latency stays under `maxP99Ms`.
 */
export function isSustained(
  summary: Pick<Summary, 'rate' | 'dropped' | 'failures_by_status' | 'latency_ms'>,
  target: number,
  maxP99Ms: number,
): boolean {
  return (
    summary.rate.achieved >= 0.95 * target &&
    summary.dropped === 0 &&
    overloadFailures(summary) === 0 &&
    summary.latency_ms.p99 <= maxP99Ms
  );
}

/** The table's columns and their widths; the CPU columns are % of one core. */
const COLUMNS = [
  ['target', 8],
  ['achieved', 9],
  ['p50_ms', 9],
  ['p99_ms', 9],
  ['overload', 9],
  ['dropped', 8],
  ['traffic-gen', 12],
  ['tg_loop', 8],
  ['frontend', 12],
  ['dice-roller', 12],
  ['die-service', 12],
  ['machine', 9],
] as const;

/** One line of the table, each cell right-aligned in its column. */
export function tableRow(cells: readonly (string | number)[]): string {
  return COLUMNS.map(([, width], i) => String(cells[i] ?? '').padStart(width)).join(' ');
}

export const TABLE_HEADER = tableRow(COLUMNS.map(([name]) => name));

/** A share of one core (1 = one core busy all the time) as the table shows it: `28%`. */
export const percent = (share: number): string => `${(100 * share).toFixed(0)}%`;

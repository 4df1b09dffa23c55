import { parseArgs } from 'node:util';

/** A bad command line: the CLI prints the message and a pointer to --help, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommonOptions {
  /** The frontend's base URL, without a trailing slash. */
  url: string;
  /** Dice named with --dice (a subset of what the system offers), or undefined for all of them. */
  dice: readonly string[] | undefined;
  /** Seed of the random source; drawn at random (and reported) when not given. */
  seed: number | undefined;
  /** Per-request limit, seconds. */
  timeoutSeconds: number;
  /**
   * The share of simulated users who roll batches (GET /roll-async) rather than one
   * die at a time (user model), or of arrivals that are batches (open model).
   */
  batchShare: number;
  /** A batch has between 2 and this many dice (1 to 20). */
  maxBatchSize: number;
  json: boolean;
}

/** Closed model: a fixed population of users, each rolling a random number of times. */
export interface UserModelOptions extends CommonOptions {
  model: 'users';
  users: number;
  maxRolls: number;
  thinkTime: { min: number; max: number };
}

/** Open model: requests arrive at a fixed rate whatever the system's latency. */
export interface OpenModelOptions extends CommonOptions {
  model: 'open';
  /** Requests per second. */
  rate: number;
  /** Seconds; undefined runs until interrupted. */
  durationSeconds: number | undefined;
  /** Arrivals that find this many requests in flight are dropped and counted. */
  maxInFlight: number;
}

export type RunOptions = UserModelOptions | OpenModelOptions;

export type Command = { command: 'help' } | { command: 'version' } | { command: 'run'; options: RunOptions };

export const DEFAULTS = {
  url: 'http://localhost:8105',
  users: 10,
  maxRolls: 20,
  thinkTime: { min: 0.5, max: 2 },
  timeoutSeconds: 10,
  maxInFlight: 256,
  batchShare: 0.3,
  maxBatchSize: 10,
} as const;

/** The most dice one `/roll-async` request may ask for, by the frontend's contract. */
export const MAX_BATCH_SIZE = 20;

export const USAGE = `Usage: traffic-gen [options]

Simulated users roll dice through the Dice Roller frontend. Each roll is a traced
request (service traffic-gen), so its trace runs traffic-gen -> frontend ->
dice-roller -> die-service.

User model (the default): users roll concurrently, each a random number of times.
  --users N             simulated users running concurrently (default ${DEFAULTS.users})
  --max-rolls M         each user rolls between 1 and M times (default ${DEFAULTS.maxRolls})
  --think-time MIN-MAX  seconds a user waits between rolls, e.g. 0.5-2 or 1; 0 for none
                        (default ${DEFAULTS.thinkTime.min}-${DEFAULTS.thinkTime.max})

Open model (sustained load): requests arrive at a fixed rate, whatever the latency.
  --rate R              requests per second (turns the open model on)
  --duration D          how long, e.g. 30, 30s, 2m, 1h (default: until Ctrl-C)
  --max-in-flight N     arrivals finding N requests in flight are dropped and counted
                        (default ${DEFAULTS.maxInFlight})

Both models:
  --url URL             the frontend (default ${DEFAULTS.url})
  --dice a,b            roll only these dice (default: every die the system offers)
  --seed N              seed of the random source (0 to 4294967295), to repeat a run
  --timeout S           seconds before a request counts as a timeout (default ${DEFAULTS.timeoutSeconds})
  --batch-share P       share of users (open model: of arrivals) who roll a batch of dice
                        at once, GET /roll-async, rather than one die (0 to 1, default ${DEFAULTS.batchShare})
  --max-batch N         a batch has 2 to N dice (1 to ${MAX_BATCH_SIZE}, default ${DEFAULTS.maxBatchSize})
  --json                print the final summary as one JSON object on stdout;
                        progress and logs go to stderr
  -h, --help            show this help
  -v, --version         show the version

Exit status: 0 run completed (failed rolls are data, not errors), 1 the frontend
could not be used at start, 2 usage error, 3 not one roll succeeded, 130 interrupted
(Ctrl-C), 143 terminated.

Examples:
  npm run traffic -- --users 5 --max-rolls 10
  npm run traffic -- --rate 50 --duration 1m --dice risky,extreme
  npm run -s traffic -- --users 20 --think-time 0 --seed 42 --json > summary.json`;

const OPTION_SPEC = {
  users: { type: 'string' },
  'max-rolls': { type: 'string' },
  'think-time': { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  'max-in-flight': { type: 'string' },
  url: { type: 'string' },
  dice: { type: 'string' },
  seed: { type: 'string' },
  timeout: { type: 'string' },
  'batch-share': { type: 'string' },
  'max-batch': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const USER_MODEL_OPTIONS = ['users', 'max-rolls', 'think-time'] as const;
const OPEN_MODEL_OPTIONS = ['duration', 'max-in-flight'] as const;

const DIE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const MAX_SEED = 0xffff_ffff;

function integer(name: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return parsed;
}

function share(name: string, value: string): number {
  const parsed = Number(value);
  if (!DECIMAL.test(value) || parsed > 1) {
    throw new UsageError(`--${name} must be a number from 0 to 1 (got "${value}")`);
  }
  return parsed;
}

function positiveNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!DECIMAL.test(value) || parsed <= 0) {
    throw new UsageError(`--${name} must be a number greater than 0 (got "${value}")`);
  }
  return parsed;
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds from `30`, `30s`, `1.5m`, `500ms` or `1h`. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  const seconds = match === null ? Number.NaN : Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? Number.NaN);
  if (!(seconds > 0)) {
    throw new UsageError(`--${name} must be a positive duration such as 30, 30s, 2m or 1h (got "${value}")`);
  }
  return seconds;
}

/** `MIN-MAX` seconds, or one number for a fixed wait (`0`: none). */
export function parseThinkTime(value: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(value);
  const min = Number(match?.[1]);
  const max = match?.[2] === undefined ? min : Number(match[2]);
  if (match === null || !(min <= max)) {
    throw new UsageError(
      `--think-time must be MIN-MAX seconds with MIN <= MAX (such as 0.5-2), one number, or 0 (got "${value}")`,
    );
  }
  return { min, max };
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url must be an http(s) URL such as ${DEFAULTS.url} (got "${value}")`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--url must be an http(s) URL such as ${DEFAULTS.url} (got "${value}")`);
  }
  return url.href.replace(/\/$/, '');
}

function parseDice(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  const invalid = names.find((name) => !DIE_NAME.test(name));
  if (invalid !== undefined) {
    throw new UsageError(
      `--dice must be a comma-separated list of die names (letters, digits, _ and -), got "${value}"`,
    );
  }
  return [...new Set(names)];
}

/** Turns node's parseArgs errors ("Unknown option '--user'") into the CLI's own wording. */
function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTION_SPEC, strict: true, allowPositionals: false });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(message);
  }
}

/** Parses and validates the command line; throws UsageError naming the option at fault. */
export function parseCommand(argv: readonly string[]): Command {
  const { values } = readArgs(argv);
  if (values.help === true) return { command: 'help' };
  if (values.version === true) return { command: 'version' };

  const common: CommonOptions = {
    url: values.url === undefined ? DEFAULTS.url : parseUrl(values.url),
    dice: values.dice === undefined ? undefined : parseDice(values.dice),
    seed: values.seed === undefined ? undefined : integer('seed', values.seed, 0, MAX_SEED),
    timeoutSeconds: values.timeout === undefined ? DEFAULTS.timeoutSeconds : parseDuration('timeout', values.timeout),
    batchShare: values['batch-share'] === undefined ? DEFAULTS.batchShare : share('batch-share', values['batch-share']),
    maxBatchSize:
      values['max-batch'] === undefined
        ? DEFAULTS.maxBatchSize
        : integer('max-batch', values['max-batch'], 1, MAX_BATCH_SIZE),
    json: values.json === true,
  };

  if (values.rate === undefined) {
    const misplaced = OPEN_MODEL_OPTIONS.find((name) => values[name] !== undefined);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} needs --rate (the open model)`);
    return {
      command: 'run',
      options: {
        ...common,
        model: 'users',
        users: values.users === undefined ? DEFAULTS.users : integer('users', values.users, 1, 10_000),
        maxRolls:
          values['max-rolls'] === undefined
            ? DEFAULTS.maxRolls
            : integer('max-rolls', values['max-rolls'], 1, 1_000_000),
        thinkTime: values['think-time'] === undefined ? DEFAULTS.thinkTime : parseThinkTime(values['think-time']),
      },
    };
  }

  const misplaced = USER_MODEL_OPTIONS.find((name) => values[name] !== undefined);
  if (misplaced !== undefined) {
    throw new UsageError(`--${misplaced} belongs to the user model and cannot be combined with --rate`);
  }
  return {
    command: 'run',
    options: {
      ...common,
      model: 'open',
      rate: positiveNumber('rate', values.rate),
      durationSeconds: values.duration === undefined ? undefined : parseDuration('duration', values.duration),
      maxInFlight:
        values['max-in-flight'] === undefined
          ? DEFAULTS.maxInFlight
          : integer('max-in-flight', values['max-in-flight'], 1, 100_000),
    },
  };
}

import { randomInt } from 'node:crypto';
import {
  ConfigError,
  createLogger,
  flushLogs,
  type Logger,
  readLogLevel,
  serviceIdentity,
  shutdownTelemetry,
} from '@dice-roller/telemetry';
import { FrontendClient } from './frontend-client';
import { type Command, parseCommand, USAGE, UsageError } from './options';
import { preflight } from './preflight';
import { run } from './run';
import { logSdkDiagnostics } from './sdk-diagnostics';
import { formatSummary } from './summary';
import { chooseLogFormat, type LogFormat, Terminal } from './terminal';

/** After Ctrl-C, requests in flight get this long to finish before they are cut off. */
const STOP_GRACE_MS = 3_000;
/**
 * Flushing the last spans never delays the exit by more than this. With a collector
 * running it takes milliseconds; without one the exporter would retry for 10 s.
 */
const TELEMETRY_FLUSH_MS = 2_000;

const EXIT = { ok: 0, unusable: 1, usage: 2, noRollSucceeded: 3, SIGINT: 130, SIGTERM: 143 } as const;

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

function usageError(message: string): number {
  process.stderr.write(`traffic-gen: ${message}\nRun traffic-gen --help for the options.\n`);
  return EXIT.usage;
}

type StopSignal = 'SIGINT' | 'SIGTERM';

/** Tells whoever reads stderr what happens: a plain line for a person, a log line for a collector. */
type Notify = (level: 'info' | 'error', message: string) => void;

function notifier(terminal: Terminal, logger: Logger): Notify {
  return (level, message) => {
    if (terminal.format === 'text') terminal.writeLine(level === 'error' ? `traffic-gen: ${message}` : message);
    else logger[level](message);
  };
}

/**
 * Ctrl-C (or SIGTERM) once: no new requests, those in flight get STOP_GRACE_MS,
 * then the summary of what was done. Twice: cut off what is in flight at once.
 * Three times: exit immediately.
 */
function handleSignals(notify: Notify, stop: AbortController, abort: AbortController) {
  let received: StopSignal | undefined;
  let count = 0;
  const onSignal = (signal: StopSignal) => {
    count += 1;
    received ??= signal;
    if (count === 1) {
      notify(
        'info',
        `Stopping (${signal}): no new requests; waiting up to ${STOP_GRACE_MS / 1000} s for those in flight. ` +
          'Press Ctrl-C again to stop now.',
      );
      stop.abort();
      setTimeout(() => abort.abort(), STOP_GRACE_MS).unref();
    } else if (count === 2) {
      abort.abort();
    } else {
      process.exit(EXIT[signal]);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { received: () => received };
}

async function execute(command: Command): Promise<number> {
  if (command.command === 'help') {
    await writeStdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (command.command === 'version') {
    await writeStdout(`traffic-gen ${serviceIdentity.version}\n`);
    return EXIT.ok;
  }
  const { options } = command;
  let level: string;
  let format: LogFormat;
  try {
    level = readLogLevel();
    format = chooseLogFormat(process.env, process.stderr);
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error.message);
    throw error;
  }

  const terminal = new Terminal(process.stderr, format);
  // Its own logger rather than the shared one: log lines go through the terminal,
  // which keeps them apart from the live progress line and stdout free for results.
  const logger = createLogger({ service: serviceIdentity.name, level, destination: terminal.logDestination() });
  logSdkDiagnostics(logger);
  const notify = notifier(terminal, logger);
  const client = new FrontendClient({
    baseUrl: options.url,
    timeoutMs: options.timeoutSeconds * 1000,
    connections: options.model === 'users' ? options.users : options.maxInFlight,
  });
  const stop = new AbortController();
  const abort = new AbortController();
  const signals = handleSignals(notify, stop, abort);
  // The client's pool is not closed: the process exits once the run is done, and after
  // a forced stop closing would wait for the requests it cut off.
  const checked = await preflight(client, options.url, options.dice);
  if (!checked.ok) {
    notify('error', checked.message);
    return checked.exitCode;
  }
  if (stop.signal.aborted) return EXIT[signals.received() ?? 'SIGINT'];

  const seed = options.seed ?? randomInt(0, 2 ** 32);
  const summary = await run(options, {
    client,
    logger,
    terminal,
    dice: checked.dice,
    seed,
    stop: stop.signal,
    abort: abort.signal,
  });
  await writeStdout(options.json ? `${JSON.stringify(summary)}\n` : `\n${formatSummary(summary)}\n`);
  const signal = signals.received();
  if (signal !== undefined) return EXIT[signal];
  // Some failed rolls are data; none succeeding means the system (or --url) is broken.
  if (summary.requests > 0 && summary.successes === 0) {
    const statuses = Object.entries(summary.failures_by_status).map(([status, count]) => `${status} x ${count}`);
    notify('error', `none of the ${summary.requests} rolls succeeded (${statuses.join(', ')}).`);
    return EXIT.noRollSucceeded;
  }
  return EXIT.ok;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message);
    throw error;
  }
  try {
    return await execute(command);
  } finally {
    // Every span, the last requests' included, reaches the collector before exit.
    await shutdownTelemetry(TELEMETRY_FLUSH_MS);
    await flushLogs();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`traffic-gen: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(EXIT.unusable);
  },
);

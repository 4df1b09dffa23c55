import pino, { type DestinationStream, type Logger } from 'pino';
import { serviceIdentity } from './service-identity';

export type { Logger } from 'pino';

/** The level names of the log contract (Python's names, as the seed used). */
const LEVEL_LABELS: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'ERROR',
};

/** pino asks for the level field of every line: one object per level, made once. */
const LEVEL_FIELDS = new Map(Object.entries(LEVEL_LABELS).map(([label, name]) => [label, { level: name }]));

/**
 * Services log to stdout, where container runtimes collect it. A command-line tool
 * (traffic-gen) sets LOG_STREAM=stderr so that stdout carries only its results.
 */
function logFileDescriptor(): 1 | 2 {
  return process.env.LOG_STREAM?.trim().toLowerCase() === 'stderr' ? 2 : 1;
}

let lastMillis = -1;
let lastTimestamp = '';

/**
 * The `timestamp` field, ISO 8601 UTC. Formatting a date costs more than writing
 * the rest of a line, and under load many lines share a millisecond: the text is
 * made once per millisecond.
 */
function isoTimestamp(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastTimestamp = `,"timestamp":"${new Date(now).toISOString()}"`;
  }
  return lastTimestamp;
}

/** How long a line may wait to be batched with the next ones before it is written. */
const BATCH_DELAY_MS = 10;
/** A batch this large is written at once, without waiting for the delay. */
const BATCH_MAX_BYTES = 64 * 1024;

/**
 * Gathers the lines logged within BATCH_DELAY_MS and hands them to the file
 * descriptor as one asynchronous write. A write costs a system call and a
 * thread-pool round trip whatever its size; writing once per line, or even once
 * per turn of the event loop (about one request per turn when a service is not
 * saturated), made logging 16 % of the chain's CPU per roll in bench/. A line
 * waits at most 10 ms, unnoticeable to whoever reads the logs. SonicBoom does the
 * writing: it never blocks the event loop, and it queues what arrives while a
 * write is in flight. Lines still waiting are handed over when the event loop
 * runs out of work (the write then keeps it alive until it lands) and on exit.
 */
class BatchingDestination implements DestinationStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly writer: pino.DestinationStream & { flush(cb?: (error?: Error) => void): void };

  constructor(fd: number) {
    // Registered before SonicBoom registers its own exit handler, so that lines
    // still waiting reach it before it writes out what it holds.
    process.on('exit', () => this.handOver());
    // The batch timer does not keep the process alive: a process that simply runs
    // out of work would otherwise end with its last lines still waiting.
    process.on('beforeExit', () => this.handOver());
    this.writer = pino.destination({ dest: fd, sync: false });
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= BATCH_MAX_BYTES) {
      this.handOver();
    } else if (this.timer === undefined) {
      // Unreferenced: waiting lines never keep a finished process alive (they are
      // handed over on 'beforeExit' and 'exit' instead).
      this.timer = setTimeout(this.endOfBatch, BATCH_DELAY_MS).unref();
    }
  }

  private readonly endOfBatch = () => {
    this.timer = undefined;
    this.handOver();
  };

  private handOver(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    this.writer.write(chunk);
  }

  /** pino's `logger.flush()` lands here. */
  flush(cb?: (error?: Error) => void): void {
    this.handOver();
    this.writer.flush(cb);
  }
}

export interface LoggerOptions {
  service: string;
  level: string;
  destination?: pino.DestinationStream;
}

/**
 * One JSON object per line: `timestamp`, `level`, `service`, `message`, the
 * event's own fields, and inside a request `trace_id`/`span_id` (added by the
 * OpenTelemetry pino instrumentation). JSON.stringify escapes newlines, so no
 * request parameter can forge a log line.
 */
export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      errorKey: 'error',
      base: { service },
      timestamp: isoTimestamp,
      formatters: {
        level: (label) => LEVEL_FIELDS.get(label) ?? { level: label.toUpperCase() },
      },
    },
    // Asynchronous writes, batched every few milliseconds: a slow stdout reader
    // (a terminal, a container runtime) never blocks the event loop.
    // `flushLogs()` drains the buffer before exit.
    destination ?? new BatchingDestination(logFileDescriptor()),
  );
}

/**
 * The process-wide logger. It starts at `info`; a service sets `logger.level` from
 * its validated LOG_LEVEL as the first step of start-up.
 */
export const logger: Logger = createLogger({ service: serviceIdentity.name, level: 'info' });

/** Resolves once buffered log lines are written; call before the process exits. */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

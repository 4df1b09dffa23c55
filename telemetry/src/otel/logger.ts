import pino, { type Logger } from 'pino';
import { BatchingDestination, logFileDescriptor } from './log-destination';
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

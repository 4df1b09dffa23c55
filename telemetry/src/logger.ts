import pino, { type Logger } from 'pino';
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

/**
 * Services log to stdout, where container runtimes collect it. A command-line tool
 * (traffic-gen) sets LOG_STREAM=stderr so that stdout carries only its results.
 */
function logFileDescriptor(): 1 | 2 {
  return process.env.LOG_STREAM?.trim().toLowerCase() === 'stderr' ? 2 : 1;
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
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: LEVEL_LABELS[label] ?? label.toUpperCase() }),
      },
    },
    // Asynchronous writes: a slow stdout reader (a terminal, a container runtime)
    // never blocks the event loop. `flushLogs()` drains the buffer before exit.
    destination ?? pino.destination({ dest: logFileDescriptor(), sync: false }),
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

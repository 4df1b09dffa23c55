import { createLogger, type Logger } from '@dice-roller/telemetry';

export interface CapturedLogger {
  logger: Logger;
  /** Every line written, parsed. */
  lines: Record<string, unknown>[];
}

/** The services' real logger, writing into memory instead of stdout. */
export function captureLogger(service = 'test'): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service,
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

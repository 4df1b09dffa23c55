import { flushLogs, logger } from '../otel/logger';
import { ConfigError } from './config';

/**
 * Runs a service's start-up. A ConfigError (a bad environment variable, a broken
 * specification file, a port in use) is logged as one clear line and exits with status 1, without
 * a stack trace; anything else is logged with its cause and also exits with 1.
 */
export async function startService(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error(`Configuration error: ${error.message}`);
    } else {
      logger.error({ error }, 'Failed to start');
    }
    await flushLogs();
    process.exit(1);
  }
}

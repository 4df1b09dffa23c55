import { startFaultFlags } from '@dice-roller/fault-lab';
import { logger, runServer, startService } from '@dice-roller/telemetry';
import { DieServiceClient } from 'die-service/client';
import { createApp } from './app';
import { readConfig } from './config';

startService(async () => {
  const config = readConfig();
  logger.level = config.logLevel;
  const dieService = new DieServiceClient({ baseUrl: config.dieServiceUrl, timeoutMs: config.dieServiceTimeoutMs });
  const app = createApp({ dieService, logger, maxDelayMs: config.rollDelayMaxMs });
  await runServer(app, {
    port: config.port,
    logger,
    onStopped: () => dieService.close(),
    startupFields: { die_service_url: config.dieServiceUrl, roll_delay_max_ms: config.rollDelayMaxMs },
  });
  // Once listening: loading OpenFeature and flagd's provider takes a moment.
  await startFaultFlags('dice-roller', logger);
});

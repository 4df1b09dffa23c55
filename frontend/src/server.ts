import { watchFaultFlags } from '@dice-roller/fault-lab';
import { logger, runServer, startService } from '@dice-roller/telemetry';
import { DiceRollerClient } from 'dice-roller/client';
import { DieServiceClient } from 'die-service/client';
import { createApp } from './app';
import { readConfig } from './config';

startService(async () => {
  const config = readConfig();
  logger.level = config.logLevel;
  const dieService = new DieServiceClient({ baseUrl: config.dieServiceUrl, timeoutMs: config.dieServiceTimeoutMs });
  const diceRoller = new DiceRollerClient({ baseUrl: config.diceRollerUrl, timeoutMs: config.diceRollerTimeoutMs });
  const app = createApp({ diceRoller, dieService, logger, grafanaUrl: config.grafanaUrl });
  await runServer(app, {
    port: config.port,
    logger,
    onStopped: async () => {
      await Promise.all([dieService.close(), diceRoller.close()]);
    },
    startupFields: { dice_roller_url: config.diceRollerUrl, die_service_url: config.dieServiceUrl },
  });
  // The faults switched on, for GET /faults and the page.
  watchFaultFlags(logger);
});

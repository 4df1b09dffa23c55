import { startFaultFlags } from '@dice-roller/fault-lab';
import { logger, runServer, startService } from '@dice-roller/telemetry';
import { createApp } from './app';
import { readConfig } from './config';
import { loadSpecificationsFile } from './specifications-file';

startService(async () => {
  const config = readConfig();
  logger.level = config.logLevel;
  const catalog = loadSpecificationsFile(config.specificationsFile);
  logger.info(
    { count: catalog.size, identifiers: [...catalog.keys()], file: config.specificationsFile },
    'Die specifications loaded',
  );
  await runServer(createApp({ catalog, logger }), { port: config.port, logger });
  // Once listening: loading OpenFeature and flagd's provider takes a moment.
  await startFaultFlags('die-service', logger);
});

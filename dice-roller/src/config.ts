import { readInteger, readLogLevel, readPort, readUrl } from '@dice-roller/telemetry';

export interface DiceRollerConfig {
  port: number;
  dieServiceUrl: string;
  dieServiceTimeoutMs: number;
  rollDelayMaxMs: number;
  logLevel: string;
}

export function readConfig(): DiceRollerConfig {
  return {
    port: readPort('PORT', 8104),
    dieServiceUrl: readUrl('DIE_SERVICE_URL', 'http://localhost:8103'),
    dieServiceTimeoutMs: readInteger('DIE_SERVICE_TIMEOUT_MS', 2000, { min: 1, max: 600_000 }),
    rollDelayMaxMs: readInteger('ROLL_DELAY_MAX_MS', 1000, { min: 0, max: 600_000 }),
    logLevel: readLogLevel(),
  };
}

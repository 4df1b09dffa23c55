import { ConfigError, readInteger, readLogLevel, readOptionalUrl, readPort, readUrl } from '@dice-roller/telemetry';

export interface FrontendConfig {
  port: number;
  dieServiceUrl: string;
  diceRollerUrl: string;
  dieServiceTimeoutMs: number;
  diceRollerTimeoutMs: number;
  grafanaUrl: string | undefined;
  logLevel: string;
}

export function readConfig(): FrontendConfig {
  const dieServiceTimeoutMs = readInteger('DIE_SERVICE_TIMEOUT_MS', 2000, { min: 1, max: 600_000 });
  const rollDelayMaxMs = readInteger('ROLL_DELAY_MAX_MS', 1000, { min: 0, max: 600_000 });
  const diceRollerTimeoutMs = readInteger('DICE_ROLLER_TIMEOUT_MS', 5000, { min: 1, max: 600_000 });
  // A roll may legitimately take the full delay plus dice-roller's own wait on
  // die-service; a shorter timeout here would turn slow successes into 504s.
  if (diceRollerTimeoutMs <= rollDelayMaxMs + dieServiceTimeoutMs) {
    throw new ConfigError(
      `DICE_ROLLER_TIMEOUT_MS (${diceRollerTimeoutMs}) must exceed ROLL_DELAY_MAX_MS (${rollDelayMaxMs}) + DIE_SERVICE_TIMEOUT_MS (${dieServiceTimeoutMs})`,
    );
  }
  return {
    port: readPort('PORT', 8105),
    dieServiceUrl: readUrl('DIE_SERVICE_URL', 'http://localhost:8103'),
    diceRollerUrl: readUrl('DICE_ROLLER_URL', 'http://localhost:8104'),
    dieServiceTimeoutMs,
    diceRollerTimeoutMs,
    grafanaUrl: readOptionalUrl('GRAFANA_URL'),
    logLevel: readLogLevel(),
  };
}

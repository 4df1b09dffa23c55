import { readLogLevel, readPort, readString } from '@dice-roller/telemetry';
import { BUNDLED_SPECIFICATIONS_FILE } from './specifications-file';

export interface DieServiceConfig {
  port: number;
  specificationsFile: string;
  logLevel: string;
}

export function readConfig(): DieServiceConfig {
  return {
    port: readPort('PORT', 8103),
    specificationsFile: readString('DIE_SPECS_FILE', BUNDLED_SPECIFICATIONS_FILE),
    logLevel: readLogLevel(),
  };
}

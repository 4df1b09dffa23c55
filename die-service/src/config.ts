import path from 'node:path';
import { readLogLevel, readPort, readString } from '@dice-roller/telemetry';
import { BUNDLED_SPECIFICATIONS_FILE } from './specifications-file';

export interface DieServiceConfig {
  port: number;
  /** Absolute, so that every message about the file names it unambiguously. */
  specificationsFile: string;
  logLevel: string;
}

/**
 * A relative DIE_SPECS_FILE means what it means where the user typed the command:
 * npm runs a workspace's script in the workspace's folder, but says in INIT_CWD
 * where it was invoked; a service started with node directly uses its own cwd.
 */
function userDirectory(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

export function readConfig(): DieServiceConfig {
  return {
    port: readPort('PORT', 8103),
    specificationsFile: path.resolve(userDirectory(), readString('DIE_SPECS_FILE', BUNDLED_SPECIFICATIONS_FILE)),
    logLevel: readLogLevel(),
  };
}

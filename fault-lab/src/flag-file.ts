import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_NAMES, FAULTS, type FaultName, LOADED_DIE_WEIGHT } from './faults';

/** The repository root, from fault-lab/dist (or fault-lab/src under a test runner). */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The one flag file every service reads, and the one docker-compose.yml mounts. */
export const DEFAULT_FLAG_FILE = path.join(REPO_ROOT, 'flags', 'faults.flagd.json');

/**
 * FAULT_FLAGS_FILE, or the repository's flags/faults.flagd.json. A relative path is
 * taken from the repository root, so `npm start` (which runs each service in its
 * own folder), a service started alone and `npm run fault` all mean the same file.
 */
export function flagFilePath(): string {
  return path.resolve(REPO_ROOT, process.env.FAULT_FLAGS_FILE?.trim() || DEFAULT_FLAG_FILE);
}

/** One flag in flagd's flag definition format (https://flagd.dev/reference/flag-definitions/). */
export interface FlagdFlag {
  state: 'ENABLED' | 'DISABLED';
  variants: Record<string, unknown>;
  defaultVariant: string;
  targeting?: unknown;
  [field: string]: unknown;
}

export interface FlagDocument {
  $schema?: string;
  flags: Record<string, FlagdFlag>;
  [field: string]: unknown;
}

export interface ActiveFault {
  fault: FaultName;
  /** The number the flag evaluates to, or the die a loaded-die fault targets. */
  value: number | string;
}

/** flagd's own parser refuses the text (not JSON, not flagd's format): the message says why. */
export class FlagFileError extends Error {
  override readonly name = 'FlagFileError';
}

const SILENT = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * Parses a flag file as flagd's in-process provider does (the same flagd-core
 * parser, so what one accepts the other accepts), then as JSON for the fields the
 * lab reads itself.
 */
export function parseFlagDocument(text: string): FlagDocument {
  // Loaded on first use, not with the module: compiling flagd's schema takes a tenth of a second.
  const { FlagdCore } = require('@openfeature/flagd-core') as typeof import('@openfeature/flagd-core');
  try {
    new FlagdCore(undefined, SILENT).setConfigurations(text);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new FlagFileError(cause?.message ?? (error as Error).message);
  }
  const document = JSON.parse(text) as FlagDocument;
  return { ...document, flags: document.flags ?? {} };
}

/** The die a loaded-die flag targets: `{"if": [{"==": [{"var": "die"}, "fair"]}, "on", "off"]}`. */
function targetedDie(targeting: unknown): string | undefined {
  const condition = (targeting as { if?: [{ '=='?: [unknown, unknown] }] } | undefined)?.if?.[0]?.['=='];
  return typeof condition?.[1] === 'string' ? condition[1] : undefined;
}

function hasTargeting(flag: FlagdFlag): boolean {
  return typeof flag.targeting === 'object' && flag.targeting !== null && Object.keys(flag.targeting).length > 0;
}

/**
 * The faults a document switches on: a fault's flag is on when its default
 * variant is not "off", or when a targeting rule may pick another variant (the
 * loaded die targets one die).
 */
export function activeFaults(document: FlagDocument): ActiveFault[] {
  const active: ActiveFault[] = [];
  for (const fault of FAULT_NAMES) {
    const flag = document.flags[fault];
    if (flag === undefined || flag.state !== 'ENABLED') continue;
    if (hasTargeting(flag)) {
      active.push({ fault, value: targetedDie(flag.targeting) ?? 'targeted' });
    } else if (flag.defaultVariant !== 'off') {
      const value = flag.variants[flag.defaultVariant];
      active.push({ fault, value: typeof value === 'number' ? value : String(value) });
    }
  }
  return active;
}

/** A fault's flag, switched off (`value` undefined) or on with `value`. */
export function faultFlag(fault: FaultName, value?: number | string): FlagdFlag {
  const definition = FAULTS[fault];
  if (definition.valueKind === 'die') {
    const flag: FlagdFlag = { state: 'ENABLED', variants: { off: 0, on: LOADED_DIE_WEIGHT }, defaultVariant: 'off' };
    if (value !== undefined) flag.targeting = { if: [{ '==': [{ var: 'die' }, value] }, 'on', 'off'] };
    return flag;
  }
  const on = typeof value === 'number' ? value : definition.defaultValue;
  return { state: 'ENABLED', variants: { off: 0, on }, defaultVariant: value === undefined ? 'off' : 'on' };
}

/** Every fault off: the shipped file, and what `npm run fault -- reset` writes. */
export function allFaultsOff(): FlagDocument {
  return {
    $schema: 'https://flagd.dev/schema/v0/flags.json',
    metadata: { flagSetId: 'fault-lab' },
    flags: Object.fromEntries(FAULT_NAMES.map((fault) => [fault, faultFlag(fault)])),
  };
}

export function formatFlagDocument(document: FlagDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * Replaces the file in one step (write beside it, then rename), so a service
 * polling it never reads half a file. Mount the folder, not the file, into a
 * container: a bind-mounted file keeps pointing at the replaced copy.
 */
export function writeFlagDocument(file: string, document: FlagDocument): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, formatFlagDocument(document));
  renameSync(temporary, file);
}

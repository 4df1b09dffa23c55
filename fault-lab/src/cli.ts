/**
 * `npm run fault -- list | on NAME [VALUE] | off NAME | reset`: switches the fault
 * lab's faults by editing the flag file the services read (and docker-compose.yml
 * mounts). The services pick the change up within a second or two, without a
 * restart. No HTTP endpoint can do this: switching a fault takes access to the file.
 */
import { readFileSync } from 'node:fs';
import { FAULT_NAMES, FAULTS, type FaultName, isFaultName } from './faults';
import {
  type ActiveFault,
  activeFaults,
  allFaultsOff,
  type FlagDocument,
  FlagFileError,
  faultFlag,
  flagFilePath,
  parseFlagDocument,
  writeFlagDocument,
} from './flag-file';

const USAGE = `usage: npm run fault -- list | on NAME [VALUE] | off NAME | reset`;

class UsageError extends Error {}

function readDocument(file: string): FlagDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${file}: cannot be read (${(error as NodeJS.ErrnoException).code}); \`reset\` writes it anew`,
    );
  }
  try {
    return parseFlagDocument(text);
  } catch (error) {
    if (!(error instanceof FlagFileError)) throw error;
    throw new UsageError(`${file}: malformed (${error.message}); fix it, or \`reset\` to switch every fault off`);
  }
}

function faultName(name: string | undefined): FaultName {
  if (name === undefined || !isFaultName(name)) {
    throw new UsageError(
      `${name === undefined ? 'a fault name is needed' : `no fault "${name}"`}; the faults: ${FAULT_NAMES.join(', ')}`,
    );
  }
  return name;
}

function parseValue(fault: FaultName, text: string | undefined): number | string {
  const { valueKind, defaultValue } = FAULTS[fault];
  if (text === undefined) return defaultValue;
  const number = Number(text);
  switch (valueKind) {
    case 'milliseconds':
      if (/^\d+$/.test(text) && number >= 1 && number <= 600_000) return number;
      throw new UsageError(`${fault}: VALUE is milliseconds, an integer from 1 to 600000 (got "${text}")`);
    case 'fraction':
      if (/^(0|1|0?\.\d+|1\.0*)$/.test(text) && number > 0 && number <= 1) return number;
      throw new UsageError(`${fault}: VALUE is a fraction of requests, above 0 and at most 1 (got "${text}")`);
    case 'die':
      if (/^[A-Za-z0-9_-]{1,64}$/.test(text)) return text;
      throw new UsageError(`${fault}: VALUE is a die identifier (got "${text}")`);
  }
}

function describe(active: readonly ActiveFault[]): string {
  const lines = FAULT_NAMES.map((fault) => {
    const on = active.find((entry) => entry.fault === fault);
    const state = on === undefined ? 'off' : `ON (${on.value})`;
    return `${fault.padEnd(30)} ${state.padEnd(12)} ${FAULTS[fault].summary}`;
  });
  return lines.join('\n');
}

function run(args: string[]): string {
  const [command, name, value, ...extra] = args;
  const file = flagFilePath();
  if (extra.length > 0) throw new UsageError(USAGE);
  switch (command) {
    case 'list':
      return `${file}\n${describe(activeFaults(readDocument(file)))}`;
    case 'on': {
      const fault = faultName(name);
      const document = readDocument(file);
      document.flags[fault] = faultFlag(fault, parseValue(fault, value));
      writeFlagDocument(file, document);
      return `${fault} is on (${file})`;
    }
    case 'off': {
      const fault = faultName(name);
      if (value !== undefined) throw new UsageError(USAGE);
      const document = readDocument(file);
      document.flags[fault] = {
        ...faultFlag(fault),
        variants: document.flags[fault]?.variants ?? faultFlag(fault).variants,
      };
      writeFlagDocument(file, document);
      return `${fault} is off (${file})`;
    }
    case 'reset':
      if (name !== undefined) throw new UsageError(USAGE);
      writeFlagDocument(file, allFaultsOff());
      return `every fault is off (${file})`;
    default:
      throw new UsageError(USAGE);
  }
}

try {
  console.log(run(process.argv.slice(2)));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}

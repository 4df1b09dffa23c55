import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@dice-roller/telemetry';
import { type DocumentNode, evaluate, parse } from '@humanwhocodes/momoa';
import { isDieIdentifier } from './die-identifier';
import type { DieSpecification } from './die-specification';

export const BUNDLED_SPECIFICATIONS_FILE = path.join(__dirname, '..', 'die_specifications.json');

/** A specifications file that breaks a rule: the message names the file, the die and the rule. */
export class SpecificationsFileError extends ConfigError {}

/** Dice in file order. */
export type DieCatalog = ReadonlyMap<string, DieSpecification>;

function parseDocument(file: string, text: string): DocumentNode {
  try {
    // momoa keeps every member of an object, so duplicate identifiers can be
    // reported; JSON.parse would silently keep the last one.
    return parse(text);
  } catch (error) {
    throw new SpecificationsFileError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

function validateDie(file: string, identifier: string, value: unknown): DieSpecification {
  const fail = (rule: string) => new SpecificationsFileError(`${file}: die '${identifier}': ${rule}`);
  if (!isDieIdentifier(identifier)) {
    throw fail("identifier must be 1 to 64 letters, digits, '_' or '-'");
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('must be an object with "faces" and "error_rate"');
  }
  const { faces, error_rate: errorRate } = value as Record<string, unknown>;
  if (!Array.isArray(faces) || faces.length === 0 || !faces.every((face) => Number.isSafeInteger(face))) {
    throw fail('"faces" must be a non-empty array of integers');
  }
  if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) {
    throw fail('"error_rate" must be a number from 0 to 1');
  }
  return { faces: faces as number[], error_rate: errorRate };
}

/** Reads and validates the file once, at start-up. Throws SpecificationsFileError. */
export function loadSpecificationsFile(file: string): DieCatalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SpecificationsFileError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const document = parseDocument(file, text);
  if (document.body.type !== 'Object') {
    throw new SpecificationsFileError(`${file}: must be a JSON object from die identifier to specification`);
  }
  const catalog = new Map<string, DieSpecification>();
  for (const member of document.body.members) {
    const identifier = member.name.type === 'String' ? member.name.value : member.name.name;
    if (catalog.has(identifier)) {
      throw new SpecificationsFileError(`${file}: die '${identifier}': identifier appears more than once`);
    }
    catalog.set(identifier, validateDie(file, identifier, evaluate(member.value)));
  }
  if (catalog.size === 0) throw new SpecificationsFileError(`${file}: must define at least one die`);
  return catalog;
}

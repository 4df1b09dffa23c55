import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpecificationsFile, SpecificationsFileError } from '../src/specifications-file';

const dir = mkdtempSync(path.join(tmpdir(), 'die-specs-'));

function fileWith(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function loadError(file: string): string {
  try {
    loadSpecificationsFile(file);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecificationsFileError);
    return (error as Error).message;
  }
  throw new Error(`${file} was accepted`);
}

describe('loading a die specifications file', () => {
  it('keeps file order and accepts any number of faces', () => {
    const file = fileWith(
      'ok.json',
      JSON.stringify({
        d20: { faces: Array.from({ length: 20 }, (_, i) => i + 1), error_rate: 0 },
        coin: { faces: [0, 1], error_rate: 1 },
      }),
    );
    const catalog = loadSpecificationsFile(file);
    expect([...catalog.keys()]).toEqual(['d20', 'coin']);
    expect(catalog.get('d20')?.faces).toHaveLength(20);
  });

  it.each([
    ['missing', null, 'cannot be read (ENOENT)'],
    ['not JSON', '{ "fair": ', 'not valid JSON'],
    ['an array', '[]', 'must be a JSON object'],
    ['empty', '{}', 'must define at least one die'],
    ['a spec that is not an object', '{ "fair": 6 }', "die 'fair': must be an object"],
    [
      'empty faces',
      '{ "fair": { "faces": [], "error_rate": 0 } }',
      'die \'fair\': "faces" must be a non-empty array of integers',
    ],
    [
      'a non-integer face',
      '{ "fair": { "faces": [1, 2.5], "error_rate": 0 } }',
      '"faces" must be a non-empty array of integers',
    ],
    [
      'a string face',
      '{ "fair": { "faces": ["1"], "error_rate": 0 } }',
      '"faces" must be a non-empty array of integers',
    ],
    [
      'error_rate above 1',
      '{ "fair": { "faces": [1], "error_rate": 1.5 } }',
      'die \'fair\': "error_rate" must be a number from 0 to 1',
    ],
    [
      'error_rate below 0',
      '{ "fair": { "faces": [1], "error_rate": -0.1 } }',
      '"error_rate" must be a number from 0 to 1',
    ],
    ['error_rate missing', '{ "fair": { "faces": [1] } }', '"error_rate" must be a number from 0 to 1'],
    ['an invalid identifier', '{ "bad die": { "faces": [1], "error_rate": 0 } }', "die 'bad die': identifier must be"],
    [
      'an identifier over 64 characters',
      `{ "${'x'.repeat(65)}": { "faces": [1], "error_rate": 0 } }`,
      'identifier must be 1 to 64',
    ],
    [
      'a duplicate identifier',
      '{ "fair": { "faces": [1], "error_rate": 0 }, "fair": { "faces": [2], "error_rate": 0 } }',
      "die 'fair': identifier appears more than once",
    ],
  ])('refuses a file that is %s, naming the file, the die and the rule', (name, content, expected) => {
    const file =
      content === null ? path.join(dir, 'does-not-exist.json') : fileWith(`${name.replaceAll(' ', '-')}.json`, content);
    const message = loadError(file);
    expect(message.startsWith(`${file}: `)).toBe(true);
    expect(message).toContain(expected);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_NAMES } from '../src/faults';
import { activeFaults, allFaultsOff, DEFAULT_FLAG_FILE, faultFlag, parseFlagDocument } from '../src/flag-file';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const directory = mkdtempSync(path.join(tmpdir(), 'fault-lab-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the shipped flag file', () => {
  const shipped = parseFlagDocument(readFileSync(DEFAULT_FLAG_FILE, 'utf8'));

  it('is flags/faults.flagd.json at the repository root, in flagd format', () => {
    expect(path.relative(path.join(__dirname, '..', '..'), DEFAULT_FLAG_FILE)).toBe(
      path.join('flags', 'faults.flagd.json'),
    );
    expect(shipped.$schema).toBe('https://flagd.dev/schema/v0/flags.json');
  });

  it('has every fault, and every fault off: exactly what `reset` writes', () => {
    expect(Object.keys(shipped.flags).sort()).toEqual([...FAULT_NAMES].sort());
    expect(activeFaults(shipped)).toEqual([]);
    expect(shipped).toEqual(allFaultsOff());
  });
});

describe('a flag document', () => {
  it('switches a fault on with its value, and the loaded die on for one die only', () => {
    const document = allFaultsOff();
    document.flags['die-service-slow'] = faultFlag('die-service-slow', 800);
    document.flags['dice-roller-loaded-die'] = faultFlag('dice-roller-loaded-die', 'risky');
    expect(activeFaults(document)).toEqual([
      { fault: 'die-service-slow', value: 800 },
      { fault: 'dice-roller-loaded-die', value: 'risky' },
    ]);
    expect(document.flags['dice-roller-loaded-die']?.defaultVariant).toBe('off');
  });

  it("is refused when flagd would refuse it, with flagd's reason", () => {
    expect(() => parseFlagDocument('{"flags": {')).toThrow(/JSON/);
    const noSuchVariant = {
      flags: { 'die-service-slow': { state: 'ENABLED', variants: { off: 0 }, defaultVariant: 'on' } },
    };
    expect(() => parseFlagDocument(JSON.stringify(noSuchVariant))).toThrow();
  });
});

describe('npm run fault', () => {
  const file = path.join(directory, 'faults.flagd.json');
  const fault = (...args: string[]) =>
    run(process.execPath, [CLI, ...args], { env: { ...process.env, FAULT_FLAGS_FILE: file } });
  const document = () => parseFlagDocument(readFileSync(file, 'utf8'));

  it('resets, switches on and off, and lists, keeping flags it does not own', async () => {
    await fault('reset');
    const withOther = document();
    withOther.flags['someone-elses-flag'] = { state: 'ENABLED', variants: { a: true }, defaultVariant: 'a' };
    writeFileSync(file, JSON.stringify(withOther));

    expect((await fault('on', 'die-service-failing', '0.25')).stdout).toBe(`die-service-failing is on (${file})\n`);
    await fault('on', 'dice-roller-loaded-die');
    expect(activeFaults(document())).toEqual([
      { fault: 'die-service-failing', value: 0.25 },
      { fault: 'dice-roller-loaded-die', value: 'fair' },
    ]);
    const { stdout } = await fault('list');
    expect(stdout).toMatch(/^die-service-failing\s+ON \(0\.25\)\s+a fraction/m);
    expect(stdout).toMatch(/^die-service-slow\s+off\s/m);

    await fault('off', 'die-service-failing');
    await fault('off', 'dice-roller-loaded-die');
    expect(activeFaults(document())).toEqual([]);
    expect(document().flags['someone-elses-flag']).toBeDefined();
  });

  it.each([
    [['on', 'no-such-fault'], /no fault "no-such-fault"; the faults: die-service-slow, /],
    [['on', 'die-service-slow', 'fast'], /VALUE is milliseconds/],
    [['on', 'die-service-failing', '2'], /VALUE is a fraction/],
    [['frobnicate'], /^usage: npm run fault -- list/],
  ])('refuses %j with a clear message and status 1', async (args, message) => {
    await fault('reset');
    const before = readFileSync(file, 'utf8');
    const failure = await fault(...args).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses to edit a malformed file, and `reset` repairs it', async () => {
    writeFileSync(file, '{"flags": ');
    const failure = await fault('on', 'die-service-slow').catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/malformed .*`reset`/) });
    await fault('reset');
    expect(document()).toEqual(allFaultsOff());
  });
});

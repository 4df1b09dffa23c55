import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registry } from '@dice-roller/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { eventually } from '../../test/support/prometheus';
import { faultValue, startFaultFlags, watchFaultFlags } from '../src/fault-flags';
import type { FaultName } from '../src/faults';
import { allFaultsOff, faultFlag, writeFlagDocument } from '../src/flag-file';

/**
 * OpenFeature with flagd's in-process provider, in this process, over a
 * temporary copy of the flag file polled every 100 ms.
 */

const directory = mkdtempSync(path.join(tmpdir(), 'fault-flags-'));
const file = path.join(directory, 'faults.flagd.json');
const { logger, lines } = captureLogger('die-service');

function switchOn(fault: FaultName, value: number | string): void {
  const document = allFaultsOff();
  document.flags[fault] = faultFlag(fault, value);
  writeFlagDocument(file, document);
}

beforeAll(async () => {
  writeFlagDocument(file, allFaultsOff());
  process.env.FAULT_FLAGS_FILE = file;
  process.env.FAULT_FLAGS_POLL_MS = '100';
  await startFaultFlags('die-service', logger);
});

afterAll(() => {
  watchFaultFlags(logger).stop();
  rmSync(directory, { recursive: true, force: true });
});

const errors = () => lines.filter((line) => line.level === 'ERROR');

describe('fault flags', () => {
  it('start with every fault off, and say so', async () => {
    expect(await faultValue('die-service-slow')).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ message: 'Fault flags loaded', file, faults_active: [] }));
  });

  it('follow the file while the process runs: on with its value, then off', async () => {
    switchOn('die-service-slow', 700);
    await eventually('slow on', async () => ((await faultValue('die-service-slow')) === 700 ? true : undefined));
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'Fault flags changed',
        faults_active: [{ fault: 'die-service-slow', value: 700 }],
      }),
    );
    writeFlagDocument(file, allFaultsOff());
    await eventually('slow off', async () => ((await faultValue('die-service-slow')) === 0 ? true : undefined));
  });

  it('load one die only, as the targeting rule says', async () => {
    switchOn('dice-roller-loaded-die', 'risky');
    await eventually('risky loaded', async () =>
      (await faultValue('dice-roller-loaded-die', { die: 'risky' })) === 0.5 ? true : undefined,
    );
    expect(await faultValue('dice-roller-loaded-die', { die: 'fair' })).toBe(0);
  });

  it('keep the last good flags on a malformed file, with one clear error', async () => {
    switchOn('die-service-failing', 0.3);
    await eventually('failing on', async () => ((await faultValue('die-service-failing')) === 0.3 ? true : undefined));
    expect(errors()).toEqual([]);

    writeFileSync(file, '{ "flags": { "die-service-failing": ');
    const error = await eventually('an error logged', async () => errors()[0]);
    expect(error).toMatchObject({
      message: 'Fault flags file is malformed; keeping the last good flags',
      file,
      error: expect.stringContaining('JSON'),
    });
    // Several polls later: still the last good flags, still one error.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await faultValue('die-service-failing')).toBe(0.3);
    expect(errors()).toHaveLength(1);

    writeFlagDocument(file, allFaultsOff());
    await eventually('fixed, off', async () => ((await faultValue('die-service-failing')) === 0 ? true : undefined));
  });

  it("report this service's faults in fault_active", async () => {
    switchOn('die-service-hang', 2500);
    await eventually('hang on', async () => ((await faultValue('die-service-hang')) === 2500 ? true : undefined));
    const text = await registry.getSingleMetricAsString('fault_active');
    expect(text).toContain('fault_active{fault="die-service-hang"} 1');
    expect(text).toContain('fault_active{fault="die-service-slow"} 0');
    // dice-roller's faults are dice-roller's to report.
    expect(text).not.toContain('dice-roller-loaded-die');
  });
});

import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { rollBatch } from '../src/roll-batch';

const fair = { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 };

/** A `random` that returns `values` in turn, then starts again. */
function sequence(...values: number[]): () => number {
  let next = 0;
  return () => values[next++ % values.length] as number;
}

describe('rollBatch', () => {
  it('runs the rolls side by side: every roll starts before the first one ends', async () => {
    const { logger } = captureLogger();
    const batch = await rollBatch('fair', fair, 10, { logger, maxDelayMs: 100 });
    const { rolls } = batch;
    expect(rolls.map((roll) => roll.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batch).toMatchObject({ failed: false, values: rolls.map((roll) => roll.value) });
    if (!batch.failed) expect(batch.total).toBe(batch.values.reduce((sum, value) => sum + value, 0));
    const lastStart = Math.max(...rolls.map((roll) => roll.startedAt));
    const firstEnd = Math.min(...rolls.map((roll) => roll.startedAt + roll.durationMs));
    expect(lastStart).toBeLessThan(firstEnd);
    for (const roll of rolls) expect(fair.faces).toContain(roll.value);
  });

  it('gives each roll its own delay and its own outcome', async () => {
    const { logger } = captureLogger();
    // The three delays are drawn as the rolls start; then, as each delay ends (shortest
    // first), that roll's failure draw (below 0.5 fails) and, if it landed, its face.
    const random = sequence(0.1, 0.5, 0.9, 0.9, 0.0, 0.9, 0.9, 0.1);
    const { rolls } = await rollBatch('coin', { faces: [1, 2], error_rate: 0.5 }, 3, {
      logger,
      maxDelayMs: 50,
      random,
    });
    const [first, second, third] = rolls.map((roll) => roll.durationMs) as [number, number, number];
    expect(first).toBeLessThan(second);
    expect(second).toBeLessThan(third);
    expect(rolls.map((roll) => roll.value)).toEqual([1, 2, undefined]);
  });

  it('awaits every roll to its end, the failed ones and their siblings, and logs each', async () => {
    const { logger, lines } = captureLogger();
    // error_rate 0.5 with draws alternating 0.1 (fail) and 0.9 (land): rolls 0, 2, 4 fail.
    const random = sequence(0.1, 0.9, 0.5);
    const batch = await rollBatch('coin', { faces: [1, 2], error_rate: 0.5 }, 5, { logger, maxDelayMs: 0, random });
    expect(batch).toMatchObject({ failed: true, failedRolls: [0, 2, 4] });
    expect(batch.rolls.filter((roll) => roll.value === undefined).map((roll) => roll.index)).toEqual([0, 2, 4]);
    // By the time the batch returns, every roll has logged its end: none is still running.
    const ends = lines.filter((line) =>
      ['Async roll completed', 'Async roll triggered error condition'].includes(String(line.message)),
    );
    expect(ends).toHaveLength(5);
    expect(ends.filter((line) => line.message === 'Async roll triggered error condition')).toEqual([
      expect.objectContaining({ level: 'WARNING', die_type: 'coin', roll_index: 0 }),
      expect.objectContaining({ roll_index: 2 }),
      expect.objectContaining({ roll_index: 4 }),
    ]);
    expect(ends.filter((line) => line.message === 'Async roll completed')).toEqual([
      expect.objectContaining({ level: 'INFO', die_type: 'coin', roll_index: 1, roll_value: 2 }),
      expect.objectContaining({ roll_index: 3, roll_value: 2 }),
    ]);
    // The batch's own lines frame the rolls'.
    expect(lines[0]).toMatchObject({ message: 'Async roll batch started', die_type: 'coin', times: 5 });
    expect(lines.at(-1)).toMatchObject({ level: 'ERROR', message: 'Async roll batch failed', failed_rolls: [0, 2, 4] });
  });

  it('waits for the slow siblings of a roll that fails at once', async () => {
    const { logger } = captureLogger();
    // Delays 0, 57 and 57 ms; roll 0 then fails, rolls 1 and 2 land on face 1.
    const random = sequence(0, 0.95, 0.95, 0, 0.9, 0.3, 0.9, 0.3);
    const started = performance.now();
    const { rolls } = await rollBatch('coin', { faces: [1, 2], error_rate: 0.5 }, 3, {
      logger,
      maxDelayMs: 60,
      random,
    });
    const elapsed = performance.now() - started;
    expect(rolls[0]?.value).toBeUndefined();
    expect(rolls.slice(1).map((roll) => roll.value)).toEqual([1, 1]);
    expect(elapsed).toBeGreaterThanOrEqual(55);
  });
});

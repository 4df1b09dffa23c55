import { describe, expect, it } from 'vitest';
import { rollDie } from '../src/roll';

const fair = { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 };

describe('rollDie', () => {
  it('lands on every face, each about equally often', async () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 6000; i++) {
      const outcome = await rollDie(fair, { maxDelayMs: 0 });
      if (outcome.failed) throw new Error('a fair die failed');
      counts.set(outcome.value, (counts.get(outcome.value) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
  });

  it('fails at the error rate', async () => {
    let failures = 0;
    for (let i = 0; i < 4000; i++)
      if ((await rollDie({ faces: [1], error_rate: 0.5 }, { maxDelayMs: 0 })).failed) failures++;
    expect(failures).toBeGreaterThan(1700);
    expect(failures).toBeLessThan(2300);
  });

  it('never fails a die with error_rate 0 and always fails one with error_rate 1', async () => {
    expect(await rollDie({ faces: [3], error_rate: 0 }, { maxDelayMs: 0, random: () => 0 })).toEqual({
      failed: false,
      value: 3,
    });
    expect(await rollDie({ faces: [3], error_rate: 1 }, { maxDelayMs: 0, random: () => 0.999 })).toEqual({
      failed: true,
    });
  });

  it('waits without blocking the event loop: other work runs during the delay', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await Promise.all(Array.from({ length: 100 }, () => rollDie(fair, { maxDelayMs: 100, random: () => 0.99 })));
    clearInterval(ticker);
    // 100 rolls of ~99 ms each ran concurrently, so the loop kept ticking meanwhile.
    expect(ticks).toBeGreaterThan(5);
  });
});

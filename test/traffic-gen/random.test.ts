import { describe, expect, it } from 'vitest';
import { Random } from '../../traffic-gen/src/random';

const draws = (random: Random, count: number) => Array.from({ length: count }, () => random.next());

describe('traffic-gen random source', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    expect(draws(new Random(42), 100)).toEqual(draws(new Random(42), 100));
    expect(draws(new Random(42), 100)).not.toEqual(draws(new Random(43), 100));
  });

  it('stays within its ranges and reaches both ends of an integer range', () => {
    const random = new Random(7);
    const floats = draws(random, 10_000);
    expect(floats.every((value) => value >= 0 && value < 1)).toBe(true);
    const integers = Array.from({ length: 10_000 }, () => random.integer(1, 6));
    expect([...new Set(integers)].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const betweens = Array.from({ length: 10_000 }, () => random.between(0.5, 2));
    expect(betweens.every((value) => value >= 0.5 && value < 2)).toBe(true);
  });

  it('picks each item about equally often', () => {
    const random = new Random(1);
    const counts = { fair: 0, risky: 0, extreme: 0 };
    const dice = Object.keys(counts) as (keyof typeof counts)[];
    for (let i = 0; i < 30_000; i++) counts[random.pick(dice)] += 1;
    for (const count of Object.values(counts)) expect(count).toBeGreaterThan(9_500);
  });

  it('derives independent, repeatable streams per user', () => {
    const random = new Random(42);
    expect(draws(random.derive(1), 10)).toEqual(draws(new Random(42).derive(1), 10));
    expect(draws(random.derive(1), 10)).not.toEqual(draws(random.derive(2), 10));
    // Deriving does not depend on how much the parent has been used.
    draws(random, 5);
    expect(draws(random.derive(3), 10)).toEqual(draws(new Random(42).derive(3), 10));
  });
});

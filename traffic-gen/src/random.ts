/**
 * A small seedable random source (mulberry32: 32-bit state, fast, good enough
 * for choosing dice and waits; not for anything secret). The same seed gives the
 * same choices, so a run can be repeated with --seed.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** An integer in [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Random.pick: nothing to pick from');
    return items[this.integer(0, items.length - 1)] as T;
  }

  /**
   * An independent source for stream `index` (one per simulated user), so that
   * what each user does depends on the seed alone, not on how the users' requests
   * happen to interleave.
   */
  derive(index: number): Random {
    // Hash (seed, index) with a round of the murmur3 finaliser, so nearby seeds and
    // indices give unrelated streams.
    let h = (this.seed ^ Math.imul(index + 1, 0x9e37_79b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
    return new Random((h ^ (h >>> 16)) >>> 0);
  }
}

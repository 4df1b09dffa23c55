/**
 * Latencies in logarithmic buckets 1% wide: percentiles within 1% of the exact
 * value in constant memory, however long an open-model run lasts. The minimum,
 * maximum and mean are exact.
 */
export class LatencyHistogram {
  private static readonly LOWEST_MS = 0.001;
  private static readonly GROWTH = Math.log(1.01);

  private readonly buckets: number[] = [];
  private total = 0;
  private sum = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private highest = 0;

  record(ms: number): void {
    const index = Math.max(0, Math.floor(Math.log(ms / LatencyHistogram.LOWEST_MS) / LatencyHistogram.GROWTH));
    while (this.buckets.length <= index) this.buckets.push(0);
    this.buckets[index] = (this.buckets[index] ?? 0) + 1;
    this.total += 1;
    this.sum += ms;
    this.lowest = Math.min(this.lowest, ms);
    this.highest = Math.max(this.highest, ms);
  }

  get count(): number {
    return this.total;
  }

  get min(): number {
    return this.total === 0 ? 0 : this.lowest;
  }

  get max(): number {
    return this.highest;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** The nearest-rank percentile `p` (0 < p <= 100), as the middle of its bucket. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let index = 0; index < this.buckets.length; index++) {
      seen += this.buckets[index] ?? 0;
      if (seen >= rank) {
        const middle = LatencyHistogram.LOWEST_MS * Math.exp((index + 0.5) * LatencyHistogram.GROWTH);
        return Math.min(this.highest, Math.max(this.lowest, middle));
      }
    }
    return this.highest;
  }
}

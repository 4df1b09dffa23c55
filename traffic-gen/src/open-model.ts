import { setTimeout as sleep } from 'node:timers/promises';
import type { OpenModelOptions } from './options';
import type { Stats } from './stats';
import { drawBatchSize } from './traced-roll';
import { Workload, type WorkloadDependencies } from './workload';

export interface OpenModelDependencies extends WorkloadDependencies {
  stats: Stats;
}

/**
 * The open model: requests arrive every 1/rate seconds whether or not earlier ones
 * have been answered, as independent clients would send them, so a slow system
 * shows up as growing latency instead of as a lower request rate. Arrivals that
 * find `maxInFlight` requests still in flight are dropped and counted, which keeps
 * traffic-gen's own memory and sockets bounded when the system falls behind.
 */
export class OpenModel extends Workload<
  Pick<OpenModelOptions, 'rate' | 'durationSeconds' | 'maxInFlight' | 'batchShare' | 'maxBatchSize'>,
  OpenModelDependencies
> {
  private readonly inFlight = new Set<Promise<unknown>>();
  private startedAt = 0;
  /**
   * How long arrivals were sent for (the schedule's length, or until stopped), and how
   * long the answers to the last of them then took: the achieved rate is over the first
   * alone, so that `--rate 50 --duration 5s` reads 50 however slow the last answers are.
   */
  sendingSeconds = 0;
  drainSeconds = 0;

  async run(): Promise<void> {
    const { rate, durationSeconds, maxInFlight } = this.options;
    const { stop, stats } = this.deps;
    // Arrival k is due at k / rate seconds; a run of D seconds has ceil(D * rate) of them.
    const total = durationSeconds === undefined ? Number.POSITIVE_INFINITY : Math.ceil(durationSeconds * rate);
    let arrivals = 0;
    this.startedAt = performance.now();
    while (!stop.aborted && arrivals < total) {
      const due = Math.min(total, Math.floor(this.elapsedSeconds() * rate) + 1);
      // After a pause of the event loop, the arrivals it missed are sent at once:
      // the schedule follows the clock, not the previous request.
      for (; arrivals < due; arrivals++) {
        if (this.inFlight.size >= maxInFlight) stats.recordDropped();
        else this.send();
      }
      if (arrivals >= total) break;
      const wait = arrivals / rate - this.elapsedSeconds();
      try {
        await sleep(Math.max(0, wait * 1000), undefined, { signal: stop });
      } catch {
        break;
      }
    }
    // The last arrival is due at (arrivals - 1) / rate, and the window it opens lasts 1 / rate.
    this.sendingSeconds = Math.max(this.elapsedSeconds(), arrivals / rate);
    await Promise.all(this.inFlight);
    this.drainSeconds = Math.max(0, this.elapsedSeconds() - this.sendingSeconds);
  }

  /** "of 30s  target 100/s  dropped 0", for the progress line. */
  progress(): string {
    const { rate, durationSeconds } = this.options;
    const of = durationSeconds === undefined ? '' : `of ${durationSeconds}s  `;
    return `${of}target ${rate}/s  dropped ${this.deps.stats.dropped}`;
  }

  private elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** One arrival: one die, or (a `batchShare` of them) a batch of dice at once. */
  private send(): void {
    const { random, dice, roll } = this.deps;
    const die = random.pick(dice);
    const { batchShare, maxBatchSize } = this.options;
    const batchSize = random.next() < batchShare ? drawBatchSize(random, maxBatchSize) : undefined;
    const request = roll(die, batchSize).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }
}

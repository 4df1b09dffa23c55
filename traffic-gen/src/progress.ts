import type { Logger } from '@dice-roller/telemetry';
import type { Stats } from './stats';
import type { Terminal } from './terminal';

/** How often the live line is redrawn on a terminal, and a plain line written otherwise. */
export const LIVE_INTERVAL_MS = 200;
export const PLAIN_INTERVAL_MS = 5_000;
/** The "current rate" is over this much recent time. */
const RATE_WINDOW_MS = 2_000;

export interface ProgressOptions {
  terminal: Terminal;
  /** With JSON logs, progress is a log line ("Progress") like any other. */
  logger: Pick<Logger, 'info'>;
  stats: Stats;
  /** The model's own part of the line ("users 3/10 done"). */
  describe: () => string;
  intervalMs?: number;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The progress of a run: on a terminal a live line redrawn in place; otherwise a
 * line every few seconds (a CI log or `docker logs` keeps every line), a JSON log
 * line when the logs are JSON.
 */
export class Progress {
  private readonly startedAt = performance.now();
  private readonly samples: { at: number; requests: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: ProgressOptions) {
    const interval = options.intervalMs ?? (options.terminal.interactive ? LIVE_INTERVAL_MS : PLAIN_INTERVAL_MS);
    this.samples.push({ at: this.startedAt, requests: 0 });
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
  }

  /** The line as it reads now. */
  line(): string {
    const now = performance.now();
    const { stats } = this.options;
    return [
      formatSeconds(now - this.startedAt).padStart(6),
      this.options.describe(),
      `requests ${stats.total.requests}`,
      `failed ${stats.total.failures}`,
      `${this.currentRate(now).toFixed(1)} req/s`,
      `in flight ${stats.inFlight}`,
    ].join('  ');
  }

  /** The same, as the fields of a log line. */
  fields(): Record<string, number | string> {
    const now = performance.now();
    const { stats } = this.options;
    return {
      elapsed_s: Math.round(now - this.startedAt) / 1000,
      progress: this.options.describe(),
      requests: stats.total.requests,
      failures: stats.total.failures,
      rate: Math.round(this.currentRate(now) * 10) / 10,
      in_flight: stats.inFlight,
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.options.terminal.clearLive();
  }

  private tick(): void {
    const { terminal } = this.options;
    if (terminal.interactive) terminal.setLive(this.line());
    else if (terminal.format === 'json') this.options.logger.info(this.fields(), 'Progress');
    else terminal.writeLine(this.line());
  }

  /** Requests finished per second over the last couple of seconds. */
  private currentRate(now: number): number {
    const requests = this.options.stats.total.requests;
    this.samples.push({ at: now, requests });
    while (this.samples.length > 2 && (this.samples[1]?.at ?? now) <= now - RATE_WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0] ?? { at: now, requests };
    const seconds = (now - oldest.at) / 1000;
    return seconds > 0 ? (requests - oldest.requests) / seconds : 0;
  }
}

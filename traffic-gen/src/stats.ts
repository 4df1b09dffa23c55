import type { FailureStatus } from './frontend-client';
import { LatencyHistogram } from './latency-histogram';

/** A single roll (`GET /roll`) or a batch of dice rolled at once (`GET /roll-async`). */
export type RollKind = 'single' | 'batch';

/** One finished request, as the statistics and the summary see it. */
export interface RollResult {
  die: string;
  kind: RollKind;
  /** How many dice the request rolled: 1, or the batch's size. */
  dice: number;
  ok: boolean;
  /** "200", another HTTP status, or how the request failed without one. */
  status: '200' | FailureStatus;
  latencyMs: number;
  /** The trace the request started (traffic-gen's root span). */
  traceId: string | undefined;
}

export interface Tally {
  requests: number;
  successes: number;
  failures: number;
  failuresByStatus: Record<string, number>;
}

/** A request worth looking up in Grafana. */
export interface NotableRequest {
  traceId: string | undefined;
  die: string;
  kind: RollKind;
  dice: number;
  status: string;
  latencyMs: number;
}

/** The requests of one kind: their count, the dice they rolled, and their latency. */
export interface KindTally extends Tally {
  dice: number;
  latency: LatencyHistogram;
}

function emptyTally(): Tally {
  return { requests: 0, successes: 0, failures: 0, failuresByStatus: {} };
}

function emptyKindTally(): KindTally {
  return { ...emptyTally(), dice: 0, latency: new LatencyHistogram() };
}

function count(tally: Tally, result: RollResult): void {
  tally.requests += 1;
  if (result.ok) {
    tally.successes += 1;
  } else {
    tally.failures += 1;
    tally.failuresByStatus[result.status] = (tally.failuresByStatus[result.status] ?? 0) + 1;
  }
}

/**
 * What happened so far. A request counts once it has an outcome: so at any time
 * successes + failures = requests, and requests started but not finished are
 * `inFlight` (or, after a forced stop, `abandoned`).
 */
export class Stats {
  readonly total: Tally = emptyTally();
  readonly byDie = new Map<string, Tally>();
  readonly byKind: Record<RollKind, KindTally> = { single: emptyKindTally(), batch: emptyKindTally() };
  readonly latency = new LatencyHistogram();
  slowest: NotableRequest | undefined;
  /** The first failed request. */
  failed: NotableRequest | undefined;
  started = 0;
  /** Open model: arrivals not sent because too many requests were in flight. */
  dropped = 0;
  /** Requests cut off by a forced stop; they have no outcome and are not counted. */
  abandoned = 0;

  constructor(dice: readonly string[] = []) {
    for (const die of dice) this.byDie.set(die, emptyTally());
  }

  get inFlight(): number {
    return this.started - this.total.requests - this.abandoned;
  }

  recordStart(): void {
    this.started += 1;
  }

  record(result: RollResult): void {
    count(this.total, result);
    let tally = this.byDie.get(result.die);
    if (tally === undefined) {
      tally = emptyTally();
      this.byDie.set(result.die, tally);
    }
    count(tally, result);
    const kind = this.byKind[result.kind];
    count(kind, result);
    kind.dice += result.dice;
    kind.latency.record(result.latencyMs);
    this.latency.record(result.latencyMs);
    const { traceId, die, kind: rollKind, dice, status, latencyMs } = result;
    const notable = { traceId, die, kind: rollKind, dice, status, latencyMs };
    if (this.slowest === undefined || result.latencyMs > this.slowest.latencyMs) this.slowest = notable;
    if (!result.ok && this.failed === undefined) this.failed = notable;
  }

  recordAbandoned(): void {
    this.abandoned += 1;
  }

  recordDropped(): void {
    this.dropped += 1;
  }
}

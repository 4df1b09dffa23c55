import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../traffic-gen/src/latency-histogram';
import type { RunOptions } from '../../traffic-gen/src/options';
import { Random } from '../../traffic-gen/src/random';
import { type RollResult, Stats } from '../../traffic-gen/src/stats';
import { buildSummary, formatSummary } from '../../traffic-gen/src/summary';

function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] as number;
}

describe('latency histogram', () => {
  it('gives percentiles within 1% of the exact nearest-rank value, and exact min, max and mean', () => {
    const random = new Random(3);
    const values = Array.from({ length: 20_000 }, () => 0.05 + random.next() ** 3 * 5_000);
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 95, 99, 100]) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(histogram.percentile(p) - exact) / exact).toBeLessThan(0.01);
    }
    expect(histogram.min).toBe(sorted[0]);
    expect(histogram.max).toBe(sorted.at(-1));
    expect(histogram.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  });

  it('answers 0 when empty and the value itself for one sample', () => {
    const histogram = new LatencyHistogram();
    expect([histogram.percentile(50), histogram.max, histogram.mean]).toEqual([0, 0, 0]);
    histogram.record(12.5);
    expect([histogram.percentile(50), histogram.percentile(99), histogram.min, histogram.max]).toEqual([
      12.5, 12.5, 12.5, 12.5,
    ]);
  });
});

const result = (
  die: string,
  status: RollResult['status'],
  latencyMs: number,
  traceId: string,
  batchSize?: number,
): RollResult => ({
  die,
  kind: batchSize === undefined ? 'single' : 'batch',
  dice: batchSize ?? 1,
  ok: status === '200',
  status,
  latencyMs,
  traceId,
});

const options: RunOptions = {
  model: 'users',
  url: 'http://localhost:8105',
  dice: undefined,
  seed: 9,
  timeoutSeconds: 10,
  batchShare: 0.5,
  maxBatchSize: 5,
  json: true,
  users: 2,
  maxRolls: 3,
  thinkTime: { min: 0, max: 0 },
};

describe('run statistics and summary', () => {
  const stats = new Stats(['fair', 'risky', 'extreme']);
  for (const roll of [
    result('fair', '200', 10, 'a'.repeat(32)),
    result('extreme', '500', 30, 'b'.repeat(32)),
    result('extreme', 'timeout', 20, 'c'.repeat(32)),
    result('risky', '200', 50, 'd'.repeat(32), 4),
  ]) {
    stats.recordStart();
    stats.record(roll);
  }
  stats.recordStart();
  const summary = buildSummary(stats, {
    options,
    dice: ['fair', 'risky', 'extreme'],
    seed: 9,
    elapsedMs: 2_000,
    interrupted: false,
    usersCompleted: 2,
    usage: { cpu: { user: 30_000, system: 10_000 }, eventLoopUtilization: 0.01 },
  });

  it('counts successes and failures by status, overall and by die', () => {
    expect(stats.inFlight).toBe(1);
    expect(summary).toMatchObject({
      requests: 4,
      successes: 2,
      failures: 2,
      failures_by_status: { '500': 1, timeout: 1 },
      by_die: {
        fair: { requests: 1, successes: 1, failures: 0, failures_by_status: {} },
        risky: { requests: 1, successes: 1, failures: 0 },
        extreme: { requests: 2, successes: 0, failures: 2, failures_by_status: { '500': 1, timeout: 1 } },
      },
      rate: { achieved: 2, target: null },
      users: { total: 2, completed: 2 },
      latency_ms: { min: 10, max: 50, mean: 27.5 },
      own_usage: { cpu_user_ms: 30, cpu_system_ms: 10, cpu_share: 0.02 },
    });
    expect(Object.keys(summary.failures_by_status)).toEqual(['500', 'timeout']);
  });

  it('counts single rolls and batches apart, with the dice the batches rolled', () => {
    expect(summary.by_kind).toEqual({
      single: {
        requests: 3,
        successes: 1,
        failures: 2,
        failures_by_status: { '500': 1, timeout: 1 },
        dice: 3,
        latency_ms: { p50: 20, p99: 30, max: 30 },
      },
      batch: {
        requests: 1,
        successes: 1,
        failures: 0,
        failures_by_status: {},
        dice: 4,
        latency_ms: { p50: 50, p99: 50, max: 50 },
      },
    });
    const text = formatSummary(summary);
    expect(text).toContain('By kind    kind    requests  succeeded  failed      dice  latency p50     p99');
    expect(text).toContain('           single         3          1       2         3        20 ms    30 ms');
    expect(text).toContain('           batch          1          1       0         4        50 ms    50 ms');
  });

  it('names the slowest request and the first failure by trace id', () => {
    expect(summary.slowest).toEqual({
      trace_id: 'd'.repeat(32),
      die: 'risky',
      kind: 'batch',
      dice: 4,
      status: '200',
      latency_ms: 50,
    });
    expect(summary.failed).toEqual({
      trace_id: 'b'.repeat(32),
      die: 'extreme',
      kind: 'single',
      dice: 1,
      status: '500',
      latency_ms: 30,
    });
  });

  it('prints a readable summary with the trace ids and the seed', () => {
    const text = formatSummary(summary);
    expect(text).toContain('Requests   4 in 2 s, 2 req/s');
    expect(text).toContain('Failed     2 (50%): 500 x 1, timeout x 1');
    expect(text).toMatch(/extreme\s+2\s+0\s+2\s+\(500 x 1, timeout x 1\)/);
    expect(text).toContain(`Slowest    trace ${'d'.repeat(32)}  50 ms, risky x4, 200`);
    expect(text).toContain('50% of users roll batches of up to 5');
    expect(text).toContain(`A failure  trace ${'b'.repeat(32)}`);
    expect(text).toContain('--seed 9');
  });
});

describe('open-model summary', () => {
  // `--rate 50 --duration 5s`: 250 requests sent over 5 s, the last answers 0.9 s later.
  const stats = new Stats(['fair']);
  for (let i = 0; i < 250; i++) {
    stats.recordStart();
    stats.record(result('fair', '200', 900, 'e'.repeat(32)));
  }
  const summary = buildSummary(stats, {
    options: { ...options, model: 'open', rate: 50, durationSeconds: 5, maxInFlight: 256 },
    dice: ['fair'],
    seed: 9,
    elapsedMs: 5_900,
    sending: { sendingSeconds: 5, drainSeconds: 0.9 },
    interrupted: false,
    usersCompleted: 0,
    usage: { cpu: { user: 0, system: 0 }, eventLoopUtilization: 0 },
  });

  it('reports the rate over the sending window, and the drain apart', () => {
    expect(summary).toMatchObject({ requests: 250, elapsed_s: 5.9, drain_s: 0.9 });
    expect(summary.rate).toEqual({ achieved: 50, target: 50, window_s: 5 });
    expect(formatSummary(summary)).toContain(
      'Requests   250 in 5.9 s: 50 req/s over 5 s of sending (target 50), then 0.9 s for the last answers',
    );
  });
});

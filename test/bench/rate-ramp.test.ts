import { describe, expect, it } from 'vitest';
import { isSustained, parseRampOptions, TABLE_HEADER, tableRow } from '../../bench/lib/rate-ramp';

/** What a healthy run at 200 req/s summarises to, as far as the rule reads it. */
const healthy = {
  rate: { achieved: 199.2, target: 200, window_s: 10 },
  dropped: 0,
  failures_by_status: { '500': 40 },
  latency_ms: { min: 1, mean: 5, p50: 3.4, p95: 20, p99: 62.9, max: 120 },
};

describe('bench:traffic-gen options', () => {
  it('defaults to a ramp from 100 to 1500 req/s, 10 s each, p99 up to 500 ms', () => {
    const options = parseRampOptions([]);
    expect(options).toMatchObject({ durationSeconds: 10, maxP99Ms: 500 });
    expect(options !== 'help' && [options.rates[0], options.rates.at(-1), options.rates.length]).toEqual([
      100, 1500, 15,
    ]);
  });

  it('reads a short ramp from the command line', () => {
    expect(parseRampOptions(['--rates', '100,200,400', '--duration', '5', '--max-p99', '250'])).toEqual({
      rates: [100, 200, 400],
      durationSeconds: 5,
      maxP99Ms: 250,
    });
    expect(parseRampOptions(['-h'])).toBe('help');
  });

  it('refuses what is not a positive number, and unknown options', () => {
    expect(() => parseRampOptions(['--rates', '100,,200'])).toThrow(/--rates takes a positive number/);
    expect(() => parseRampOptions(['--duration', '10s'])).toThrow(/--duration takes a positive number/);
    expect(() => parseRampOptions(['--max-p99', '0'])).toThrow(/--max-p99/);
    expect(() => parseRampOptions(['--rate', '100'])).toThrow(/Unknown option '--rate'/);
  });
});

describe('a sustained rate', () => {
  it('is one reached to 95% with no drop, no overload and p99 under the limit; 500s do not count', () => {
    expect(isSustained(healthy, 200, 500)).toBe(true);
    expect(isSustained({ ...healthy, rate: { ...healthy.rate, achieved: 190 } }, 200, 500)).toBe(true);
  });

  it.each([
    ['the achieved rate is under 95% of the target', { rate: { ...healthy.rate, achieved: 189.9 } }],
    ['an arrival was dropped', { dropped: 1 }],
    ['a request timed out', { failures_by_status: { timeout: 1 } }],
    ['a connection failed', { failures_by_status: { connection_error: 1 } }],
    ['a service was unavailable', { failures_by_status: { '503': 1 } }],
    ['an upstream timed out', { failures_by_status: { '504': 1 } }],
    ['p99 is over the limit', { latency_ms: { ...healthy.latency_ms, p99: 500.1 } }],
  ])('is not one where %s', (_, change) => {
    expect(isSustained({ ...healthy, ...change }, 200, 500)).toBe(false);
  });
});

describe('the table', () => {
  it('has one column per figure, each value right-aligned under its name', () => {
    expect(TABLE_HEADER).toBe(
      '  target  achieved    p50_ms    p99_ms  overload  dropped  traffic-gen  tg_loop     frontend  dice-roller  die-service   machine',
    );
    const row = tableRow([300, 299.49, 3.4, 90, 0, 0, '28%', '26%', '40%', '37%', '21%', '135%']);
    expect(row).toBe(
      '     300    299.49       3.4        90         0        0          28%      26%          40%          37%          21%      135%',
    );
  });
});

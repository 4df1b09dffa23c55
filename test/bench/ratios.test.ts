import { describe, expect, it } from 'vitest';
import type { VariantId } from '../../bench/lib/chains';
import { medianRatios, ratios } from '../../bench/lib/report';

/** CPU ms per roll of one round, by variant. */
function round(cpu: Partial<Record<VariantId, number>>) {
  return ratios((variant) => cpu[variant]);
}

describe('benchmark ratios of CPU per roll', () => {
  it('divides what the project adds by what each yardstick adds', () => {
    const result = round({ 1: 1.2, 2: 0.5, 3: 0.25, 4: 0.75, 5: 0.4, 7: 0.95, 8: 1.2 });
    // (1 - 2) / (4 - 3): 0.7 over the SDK's 0.5 on bare node:http.
    expect(result.telemetry).toBeCloseTo(1.4);
    // 2 / 5: the project without its SDK over plain Express.
    expect(result.framework).toBeCloseTo(1.25);
    // (1 - 2) / (7 - 5): 0.7 over the SDK's 0.55 on Express.
    expect(result.onExpress).toBeCloseTo(0.7 / 0.55);
    // (1 - 2) / (8 - 2): the shipped telemetry costs what the stock SDK costs in the same services.
    expect(result.overStockSdk).toBeCloseTo(1);
  });

  it('leaves a ratio undefined when a variant it needs did not run or its yardstick adds nothing', () => {
    const result = round({ 1: 1.2, 2: 0.5, 3: 0.3, 4: 0.3 });
    expect(result.telemetry).toBeUndefined();
    expect(result.framework).toBeUndefined();
    expect(result.onExpress).toBeUndefined();
    expect(result.overStockSdk).toBeUndefined();
  });

  it('takes the median of each ratio over the rounds, skipping rounds that lack it', () => {
    const rounds = [
      round({ 1: 1.0, 2: 0.5, 8: 1.0 }),
      round({ 1: 2.0, 2: 0.5, 8: 1.0 }),
      round({ 1: 1.1, 2: 0.5, 8: 1.0 }),
      round({ 1: 1.1, 2: 0.5 }),
    ];
    const median = medianRatios(rounds);
    expect(median.overStockSdk).toBeCloseTo(1.2);
    expect(median.telemetry).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { latencySummary } from './predict-load.js';

describe('latencySummary', () => {
  it('takes exact nearest-rank percentiles of the samples, whatever their order', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latencySummary(samples)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });

  it('gives the one sample for every percentile of a single request', () => {
    expect(latencySummary([7.25])).toEqual({ p50: 7.25, p95: 7.25, p99: 7.25, max: 7.25, mean: 7.25 });
  });

  it('reports zeros, not NaN, when no request succeeded', () => {
    expect(latencySummary([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});

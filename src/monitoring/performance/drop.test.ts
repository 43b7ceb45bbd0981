import { describe, expect, it } from 'vitest';
import { metricDrop, performanceDrops } from './drop.js';

describe('performance drop', () => {
  it('is the share by which a higher-is-better metric fell below training', () => {
    expect(metricDrop('accuracy', 0.72, 0.9)).toBeCloseTo(0.2, 15);
    expect(metricDrop('rocAuc', 0.99, 0.9)).toBeCloseTo(-0.1, 15);
  });

  it('is the share by which an error metric rose above training', () => {
    expect(metricDrop('mae', 2.5, 2)).toBeCloseTo(0.25, 15);
    expect(metricDrop('rmse', 1.5, 2)).toBeCloseTo(-0.25, 15);
  });

  it('has no value for a training value of 0, which has no share', () => {
    expect(metricDrop('mae', 0.1, 0)).toBeNull();
  });

  it('covers only the window metrics with a training value', () => {
    const drops = performanceDrops(
      { accuracy: 0.8, precision: 0.5, rocAuc: null },
      { accuracy: 1, rocAuc: 0.9 },
    );
    expect(drops).toEqual({ accuracy: expect.closeTo(0.2, 15) });
  });
});

import { describe, expect, it } from 'vitest';
import {
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import {
  MIN_STD,
  normedWasserstein,
  populationStd,
  sortedWassersteinDistance,
  wassersteinDistance,
} from './wasserstein.js';

interface Case {
  name: string;
  reference: number[];
  current: number[];
  distance: FixtureNumber;
  std: FixtureNumber;
  score: FixtureNumber;
}

describe('wasserstein', () => {
  for (const c of fixtureCases<Case>('wasserstein')) {
    it(`matches scipy.stats.wasserstein_distance / numpy.std: ${c.name}`, () => {
      const ref = Float64Array.from(c.reference);
      const cur = Float64Array.from(c.current);
      expectStatistic(wassersteinDistance(ref, cur), c.distance, 'distance');
      expectStatistic(populationStd(ref), c.std, 'std');
      expectStatistic(normedWasserstein(ref, cur).score, c.score, 'normed distance');
    });
  }

  for (const c of fixtureCases<Case>('wasserstein')) {
    it(`answers the same on samples passed already sorted: ${c.name}`, () => {
      const ref = Float64Array.from(c.reference).sort();
      const cur = Float64Array.from(c.current).sort();
      expect(sortedWassersteinDistance(ref, cur)).toBe(wassersteinDistance(ref, cur));
      expectStatistic(normedWasserstein(ref, cur, true).score, c.score, 'normed distance');
    });
  }

  it('divides by 0.001 when the reference is constant', () => {
    const result = normedWasserstein(Float64Array.of(2, 2, 2), Float64Array.of(2, 2, 3));
    expect(result.score).toBeCloseTo(1 / 3 / MIN_STD, 9);
    expect(result.pValue).toBeNull();
  });

  it('is the shift of a translated sample', () => {
    expect(wassersteinDistance(Float64Array.of(0, 1, 2), Float64Array.of(5, 6, 7))).toBe(5);
  });
});

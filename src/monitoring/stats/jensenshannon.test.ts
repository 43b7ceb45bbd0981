import { describe, expect, it } from 'vitest';
import {
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import { numericBins } from './bins.js';
import { alignCounts, countValues } from './categories.js';
import { jensenShannon } from './jensenshannon.js';

interface Case {
  name: string;
  kind: 'numerical' | 'categorical';
  reference: (number | string)[];
  current: (number | string)[];
  referenceCounts: number[];
  currentCounts: number[];
  psi: FixtureNumber;
  jensenshannon: FixtureNumber;
}

function binned(c: Case): { reference: number[]; current: number[] } {
  if (c.kind === 'numerical') {
    return numericBins(Float64Array.from(c.reference as number[]), Float64Array.from(c.current as number[]));
  }
  return alignCounts(countValues(c.reference as string[]), countValues(c.current as string[]));
}

describe('jensenShannon', () => {
  for (const c of fixtureCases<Case>('binned')) {
    it(`matches scipy.spatial.distance.jensenshannon(base=2): ${c.name}`, () => {
      const bins = binned(c);
      expect(bins.reference).toEqual(c.referenceCounts);
      expect(bins.current).toEqual(c.currentCounts);
      const result = jensenShannon(bins.reference, bins.current);
      expectStatistic(result.score, c.jensenshannon, 'distance');
      expect(result.pValue).toBeNull();
    });
  }

  it('is 0 for proportional counts and 1 for disjoint supports', () => {
    expect(jensenShannon([1, 2, 3], [2, 4, 6]).score).toBe(0);
    expect(jensenShannon([1, 0], [0, 1]).score).toBeCloseTo(1, 15);
  });
});

import { describe, expect, it } from 'vitest';
import {
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import { numericBins } from './bins.js';
import { alignCounts, countValues } from './categories.js';
import { emptyBinShare, psi } from './psi.js';

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

function binnedCounts(c: Case): { reference: number[]; current: number[] } {
  if (c.kind === 'numerical') {
    return numericBins(Float64Array.from(c.reference as number[]), Float64Array.from(c.current as number[]));
  }
  return alignCounts(countValues(c.reference as string[]), countValues(c.current as string[]));
}

describe('psi', () => {
  for (const c of fixtureCases<Case>('binned')) {
    it(`bins as numpy does and matches the numpy PSI: ${c.name}`, () => {
      const bins = binnedCounts(c);
      expect(bins.reference).toEqual(c.referenceCounts);
      expect(bins.current).toEqual(c.currentCounts);
      const result = psi(bins.reference, bins.current);
      expectStatistic(result.score, c.psi, 'psi');
      expect(result.pValue).toBeNull();
    });
  }

  it('fills an empty bin with 0.0001, or a millionth of a smaller smallest share', () => {
    expect(emptyBinShare(0.2)).toBe(0.0001);
    expect(emptyBinShare(0.00005)).toBeCloseTo(5e-11, 20);
  });

  it('scores identical bins 0 and stays finite with a bin empty on one side', () => {
    expect(psi([1, 2, 3], [2, 4, 6]).score).toBe(0);
    expect(Number.isFinite(psi([5, 5, 0], [3, 3, 4]).score)).toBe(true);
  });
});

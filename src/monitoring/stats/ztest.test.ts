import { describe, expect, it } from 'vitest';
import {
  expectPValue,
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import { countValues } from './categories.js';
import { proportionsZTest } from './ztest.js';

interface Case {
  name: string;
  reference: string[];
  current: string[];
  statistic: FixtureNumber;
  pValue: FixtureNumber;
}

describe('proportionsZTest', () => {
  for (const c of fixtureCases<Case>('ztest')) {
    it(`matches the pooled z-test with scipy.stats.norm.sf: ${c.name}`, () => {
      const result = proportionsZTest(countValues(c.reference), countValues(c.current));
      expectStatistic(result.score, c.statistic, 'z');
      expectPValue(result.pValue, c.pValue, 'p-value');
    });
  }

  it('answers z = 0 and p = 1 when both samples hold the same single value', () => {
    expect(proportionsZTest(new Map([['x', 4]]), new Map([['x', 9]]))).toEqual({ score: 0, pValue: 1 });
  });

  it('refuses a column with more than two categories, naming the alternatives', () => {
    expect(() =>
      proportionsZTest(
        new Map([
          ['a', 1],
          ['b', 1],
        ]),
        new Map([['c', 1]]),
      ),
    ).toThrow(/chisquare/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  expectPValue,
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import { countValues } from './categories.js';
import { chiSquareTest } from './chisquare.js';

interface Case {
  name: string;
  reference: string[];
  current: string[];
  statistic: FixtureNumber;
  pValue: FixtureNumber;
}

describe('chiSquareTest', () => {
  for (const c of fixtureCases<Case>('chisquare')) {
    it(`matches scipy.stats.chisquare: ${c.name}`, () => {
      const result = chiSquareTest(countValues(c.reference), countValues(c.current));
      expectStatistic(result.score, c.statistic, 'statistic');
      expectPValue(result.pValue, c.pValue, 'p-value');
    });
  }

  it('calls a category the reference never saw drift: infinite statistic, p-value 0', () => {
    const result = chiSquareTest(
      new Map([['a', 10]]),
      new Map([
        ['a', 5],
        ['new', 1],
      ]),
    );
    expect(result).toEqual({ score: Number.POSITIVE_INFINITY, pValue: 0 });
  });

  it('finds nothing to compare in one shared category', () => {
    expect(chiSquareTest(new Map([['a', 10]]), new Map([['a', 3]]))).toEqual({ score: 0, pValue: 1 });
  });

  it('scales the reference shares to the current size, so sample sizes may differ', () => {
    const result = chiSquareTest(
      new Map([
        ['a', 100],
        ['b', 300],
      ]),
      new Map([
        ['a', 1],
        ['b', 3],
      ]),
    );
    expect(result.score).toBe(0);
    expect(result.pValue).toBe(1);
  });
});

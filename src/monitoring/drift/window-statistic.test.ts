import { describe, expect, it } from 'vitest';
import type { CategoricalColumnProfile, NumericColumnProfile } from '../baseline/profile.js';
import { countValues } from '../stats/categories.js';
import { driftReport } from './report.js';
import { compareColumn, expandCounts, numberCounts, planColumn } from './window-statistic.js';

const repeat = <T>(value: T, n: number): T[] => new Array<T>(n).fill(value);

const base = {
  role: 'feature' as const,
  sourceType: 'DOUBLE',
  nulls: 0,
  nullShare: 0,
  distinctCapped: false,
};

function numericProfile(values: number[]): NumericColumnProfile {
  return {
    ...base,
    type: 'numerical',
    count: values.length,
    distinct: new Set(values).size,
    min: null,
    max: null,
    mean: null,
    std: null,
    quantiles: null,
    bins: null,
  };
}

function categoricalProfile(values: string[]): CategoricalColumnProfile {
  const counts = countValues(values);
  return {
    ...base,
    sourceType: 'VARCHAR',
    type: 'categorical',
    count: values.length,
    distinct: counts.size,
    categories: [...counts].map(([value, count]) => ({ value, count, share: count / values.length })),
    other: { categories: 0, count: 0, share: 0 },
  };
}

/** The window path on numbers with few distinct values: counts from both sides, as the job feeds them. */
function numericWindow(reference: number[], current: number[], method?: 'z') {
  const plan = planColumn('x', numericProfile(reference), method);
  const sorted = (v: number[]) => Float64Array.from(v).sort();
  return compareColumn(plan, {
    referenceCounts: numberCounts(sorted(reference)),
    currentCounts: numberCounts(sorted(current)),
  });
}

describe('a window column compared on counts', () => {
  it('scores a categorical column exactly as the in-memory report, unseen categories included', () => {
    const reference = [...repeat('a', 50), ...repeat('b', 30), ...repeat('c', 20)];
    const current = [...repeat('a', 20), ...repeat('b', 30), ...repeat('c', 40), ...repeat('d', 10)];
    const plan = planColumn('x', categoricalProfile(reference));
    const got = compareColumn(plan, {
      referenceCounts: countValues(reference),
      currentCounts: countValues(current),
    });
    const want = driftReport({ x: reference }, { x: current }, { columnTypes: { x: 'categorical' } });
    expect(got).toEqual(want.columns.x);
    expect(got.method).toBe('chisquare');
  });

  it('takes chi-square for a numeric column with three values, as the in-memory report does', () => {
    const reference = [...repeat(0, 40), ...repeat(1, 40), ...repeat(2, 20)];
    const current = [...repeat(0, 20), ...repeat(1, 40), ...repeat(2, 40)];
    const got = numericWindow(reference, current);
    expect(got).toEqual(driftReport({ x: reference }, { x: current }).columns.x);
    expect(got).toMatchObject({ method: 'chisquare', drifted: true });
  });

  it('takes KS over the expanded counts once both samples hold more than five values', () => {
    const reference = Array.from({ length: 200 }, (_, i) => i % 8);
    const current = Array.from({ length: 150 }, (_, i) => (i % 8) + (i % 3 === 0 ? 1 : 0));
    const got = numericWindow(reference, current);
    expect(got).toEqual(driftReport({ x: reference }, { x: current }).columns.x);
    expect(got.method).toBe('ks');
  });

  it('refuses the z-test on a column with more than two values, naming the override', () => {
    expect(() => numericWindow([0, 1, 2], [0, 1, 2], 'z')).toThrow(
      /methods\.x: the z-test compares two values/,
    );
  });

  it('expands counts back into the sorted values they came from', () => {
    const values = Float64Array.from([3, -1, 2.5, 3, -1, 3]).sort();
    expect(expandCounts(numberCounts(values))).toEqual(values);
  });
});

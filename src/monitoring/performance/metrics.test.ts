import { describe, expect, it } from 'vitest';
import { positiveClass, sortClasses, windowMetrics } from './metrics.js';
import type { PerformanceCell } from './query.js';

function cell(y: string | null, yhat: string | null, n: number, extra: Partial<PerformanceCell> = {}) {
  return {
    labelled: y !== null,
    y,
    yhat,
    n,
    rankSum: null,
    scored: 0,
    classes: null,
    absErr: null,
    sqErr: null,
    regressed: 0,
    ...extra,
  } satisfies PerformanceCell;
}

describe('window metrics', () => {
  it('sorts classes numerically when all are numbers, else as text', () => {
    expect(sortClasses(['10', '9', '1'])).toEqual(['1', '9', '10']);
    expect(sortClasses(['b', 'B', 'a'])).toEqual(['B', 'a', 'b']);
  });

  it('takes 1, true, or else the last class as the positive class', () => {
    expect(positiveClass(['0', '1'])).toBe('1');
    expect(positiveClass(['0'])).toBe('1');
    expect(positiveClass(['false', 'true'])).toBe('true');
    expect(positiveClass(['no', 'yes'])).toBe('yes');
  });

  it('answers no ROC AUC when the labelled rows hold only one class, or some lack a probability', () => {
    const oneClass = windowMetrics([cell('1', '1', 3, { rankSum: 6, scored: 3, classes: 2 })]);
    expect(oneClass.metrics.rocAuc).toBeNull();
    const unscored = windowMetrics([
      cell('1', '1', 2, { rankSum: 7, scored: 2, classes: 2 }),
      cell('0', '1', 2, { rankSum: 3, scored: 1, classes: 2 }),
    ]);
    expect(unscored.metrics.rocAuc).toBeNull();
  });

  it('gives a class that is never predicted precision 0 in the macro average, as zero_division=0', () => {
    const result = windowMetrics([cell('a', 'a', 2), cell('b', 'a', 1), cell('c', 'c', 1)]);
    expect(result.task).toBe('multiclass');
    expect(result.classes).toEqual(['a', 'b', 'c']);
    expect(result.metrics.precision).toBeCloseTo((2 / 3 + 0 + 1) / 3, 15);
    expect(result.metrics.recall).toBeCloseTo((1 + 0 + 1) / 3, 15);
  });

  it('counts unlabelled predictions in the share but not in the metrics', () => {
    const result = windowMetrics([cell(null, '1', 6), cell('1', '1', 2), cell('0', '1', 2)]);
    expect(result).toMatchObject({ predictions: 10, labelled: 4, labelledShare: 0.4 });
    expect(result.metrics.accuracy).toBe(0.5);
  });
});

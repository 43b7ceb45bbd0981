import { describe, expect, it } from 'vitest';
import { defaultMethod, defaultThreshold, driftStatus, inferColumnType, isDatasetDrift } from './defaults.js';

describe('defaultMethod', () => {
  it('tests a small reference: KS above 5 distinct numbers, chi-square above 2 values, else z', () => {
    expect(defaultMethod('numerical', 1000, 6)).toBe('ks');
    expect(defaultMethod('numerical', 1000, 5)).toBe('chisquare');
    expect(defaultMethod('numerical', 1000, 2)).toBe('z');
    expect(defaultMethod('categorical', 500, 3)).toBe('chisquare');
    expect(defaultMethod('categorical', 500, 40)).toBe('chisquare');
    expect(defaultMethod('categorical', 500, 2)).toBe('z');
  });

  it('measures a distance above 1000 reference rows: Wasserstein for numbers, Jensen-Shannon otherwise', () => {
    expect(defaultMethod('numerical', 1001, 6)).toBe('wasserstein');
    expect(defaultMethod('numerical', 1001, 5)).toBe('jensenshannon');
    expect(defaultMethod('categorical', 5000, 2)).toBe('jensenshannon');
  });
});

describe('thresholds and status', () => {
  it('drifts tests at p < 0.05 and distances at >= 0.1', () => {
    expect(defaultThreshold('ks')).toBe(0.05);
    expect(defaultThreshold('z')).toBe(0.05);
    expect(defaultThreshold('psi')).toBe(0.1);
    expect(driftStatus('ks', 0.3, 0.0499, 0.05)).toBe('drift');
    expect(driftStatus('wasserstein', 0.1, null, 0.1)).toBe('drift');
  });

  it('warns within a factor of 2 of the threshold, and is ok beyond it', () => {
    expect(driftStatus('chisquare', 3, 0.05, 0.05)).toBe('warning');
    expect(driftStatus('chisquare', 3, 0.0999, 0.05)).toBe('warning');
    expect(driftStatus('chisquare', 3, 0.1, 0.05)).toBe('ok');
    expect(driftStatus('jensenshannon', 0.05, null, 0.1)).toBe('warning');
    expect(driftStatus('jensenshannon', 0.0499, null, 0.1)).toBe('ok');
    expect(driftStatus('jensenshannon', 0.06, null, 0.1, 1)).toBe('ok');
  });

  it('calls dataset drift from half of the columns', () => {
    expect(isDatasetDrift(0.5)).toBe(true);
    expect(isDatasetDrift(0.49)).toBe(false);
    expect(isDatasetDrift(0.5, 0.75)).toBe(false);
  });
});

describe('inferColumnType', () => {
  it('is numerical when every non-null value of both samples is a number', () => {
    expect(inferColumnType([1, null, 2.5], [3])).toBe('numerical');
    expect(inferColumnType([1, 2], [3, '4'])).toBe('categorical');
    expect(inferColumnType([true, false], [true])).toBe('categorical');
  });
});

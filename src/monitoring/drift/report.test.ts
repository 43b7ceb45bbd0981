import { describe, expect, it } from 'vitest';
import {
  expectPValue,
  expectStatistic,
  type FixtureNumber,
  fixtureCases,
} from '../../../test/monitoring/drift-fixtures.js';
import { analyzeDrift, driftReport } from './report.js';
import type { DriftMethod } from './types.js';

interface ReportCase {
  name: string;
  reference: Record<string, unknown[]>;
  current: Record<string, unknown[]>;
  columns: Record<string, { method: DriftMethod; score: FixtureNumber; pValue: FixtureNumber | null }>;
}

describe('driftReport', () => {
  for (const c of fixtureCases<ReportCase>('report')) {
    it(`picks the default methods and matches SciPy per column: ${c.name}`, () => {
      const report = driftReport(c.reference, c.current);
      expect(Object.keys(report.columns)).toEqual(Object.keys(c.columns));
      for (const [name, expected] of Object.entries(c.columns)) {
        const column = report.columns[name]!;
        expect(column.method, name).toBe(expected.method);
        expectStatistic(column.score, expected.score, `${name} score`);
        if (expected.pValue === null) expect(column.pValue).toBeNull();
        else expectPValue(column.pValue, expected.pValue, `${name} p-value`);
      }
    });
  }

  it('counts nulls and leaves them out of the statistics', () => {
    const { counts, report } = analyzeDrift(
      { x: [1, 2, 3, null, 4, 5, 6] },
      { x: [null, null, 1, 2, 3, 4, 5, 6] },
    );
    expect(counts.x).toEqual({ referenceRows: 7, currentRows: 8, referenceNulls: 1, currentNulls: 2 });
    expect(report.columns.x!.score).toBe(
      driftReport({ x: [1, 2, 3, 4, 5, 6] }, { x: [1, 2, 3, 4, 5, 6] }).columns.x!.score,
    );
  });

  it('answers the contract shape, with the share of drifted columns deciding dataset drift', () => {
    const reference = { a: ['x', 'y', 'x', 'y', 'x', 'y'], b: ['x', 'y', 'x', 'y', 'x', 'y'] };
    const current = { a: ['z', 'z', 'z', 'z', 'z', 'z'], b: ['x', 'y', 'x', 'y', 'x', 'y'] };
    const report = driftReport(reference, current, { methods: { a: 'chisquare', b: 'chisquare' } });
    expect(report).toEqual({
      datasetDrift: true,
      driftShare: 0.5,
      drifted: 1,
      columns: {
        a: {
          type: 'categorical',
          method: 'chisquare',
          score: Number.MAX_VALUE,
          pValue: 0,
          threshold: 0.05,
          drifted: true,
          status: 'drift',
        },
        b: {
          type: 'categorical',
          method: 'chisquare',
          score: 0,
          pValue: 1,
          threshold: 0.05,
          drifted: false,
          status: 'ok',
        },
      },
    });
    expect(
      driftReport(reference, current, { methods: { a: 'chisquare', b: 'chisquare' }, datasetDriftShare: 0.6 })
        .datasetDrift,
    ).toBe(false);
  });

  it('takes per-column types, methods and thresholds', () => {
    const report = driftReport(
      { n: [1, 2, 3, 4, 5, 6, 7, 8] },
      { n: [2, 3, 4, 5, 6, 7, 8, 9] },
      { columnTypes: { n: 'numerical' }, methods: { n: 'psi' }, thresholds: { n: 5 } },
    );
    expect(report.columns.n).toMatchObject({
      type: 'numerical',
      method: 'psi',
      threshold: 5,
      drifted: false,
      pValue: null,
    });
  });

  it('refuses columns and overrides it cannot compare, naming the field and the fix', () => {
    expect(() => driftReport({ a: [1] }, { b: [1] })).toThrow(
      /current\.b: is not a column of reference; add it/,
    );
    expect(() => driftReport({ a: [1] }, { a: [1] }, { methods: { c: 'ks' } })).toThrow(
      /methods\.c: names no column/,
    );
    expect(() => driftReport({ a: [] }, { a: [1] })).toThrow(/reference\.a: is empty/);
    expect(() => driftReport({ a: [null] }, { a: [1] })).toThrow(/reference\.a: has only nulls/);
    expect(() => driftReport({ a: ['x'] }, { a: ['y'] }, { methods: { a: 'ks' } })).toThrow(
      /methods\.a: ks compares numbers/,
    );
    expect(() => driftReport({ a: [1, 2, 3] }, { a: [1] }, { methods: { a: 'z' } })).toThrow(
      /methods\.a: the z-test/,
    );
    expect(() => driftReport({ a: [1, 'x'] }, { a: [1] }, { columnTypes: { a: 'numerical' } })).toThrow(
      /reference\.a\[1\]: is "x", not a number/,
    );
    expect(() => driftReport({ a: [1] }, { a: [1] }, { methods: { a: 'ks' }, thresholds: { a: 2 } })).toThrow(
      /thresholds\.a: 2 is no threshold for ks/,
    );
  });
});

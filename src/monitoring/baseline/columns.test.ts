import { describe, expect, it } from 'vitest';
import { checkSampleSize, checkSeed, commaList, planColumns } from './columns.js';
import { referenceFormat } from './reference.js';

const file = [
  { name: 'age', sourceType: 'BIGINT' },
  { name: 'price', sourceType: 'DECIMAL(18,3)' },
  { name: 'city', sourceType: 'VARCHAR' },
  { name: 'vip', sourceType: 'BOOLEAN' },
  { name: 'score', sourceType: 'DOUBLE' },
  { name: 'target', sourceType: 'INTEGER' },
];

describe('planning the columns of a baseline', () => {
  it('profiles every column as a feature by default, numeric types as numerical and the rest as categorical', () => {
    expect(planColumns(file, {}).map((c) => [c.name, c.role, c.type])).toEqual([
      ['age', 'feature', 'numerical'],
      ['price', 'feature', 'numerical'],
      ['city', 'feature', 'categorical'],
      ['vip', 'feature', 'categorical'],
      ['score', 'feature', 'numerical'],
      ['target', 'feature', 'numerical'],
    ]);
  });

  it('gives the prediction and label their roles, keeps only named features and forces categorical types', () => {
    const planned = planColumns(file, {
      features: ['city', 'age'],
      prediction: 'score',
      label: 'target',
      categorical: ['target'],
    });
    expect(planned.map((c) => [c.name, c.role, c.type])).toEqual([
      ['age', 'feature', 'numerical'],
      ['city', 'feature', 'categorical'],
      ['score', 'prediction', 'numerical'],
      ['target', 'label', 'categorical'],
    ]);
  });

  it('names the field whose column is missing or doubled', () => {
    const cases: [Parameters<typeof planColumns>[1], string][] = [
      [{ prediction: 'p' }, 'prediction'],
      [{ label: 'y' }, 'label'],
      [{ prediction: 'score', label: 'score' }, 'label'],
      [{ features: ['score'], prediction: 'score' }, 'features'],
      [{ features: [] }, 'features'],
      [{ categorical: ['colour'] }, 'categorical'],
    ];
    for (const [choice, field] of cases) {
      expect(() => planColumns(file, choice), field).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ field }) }),
      );
    }
  });

  it('accepts sample sizes and seeds as numbers or decimal text within bounds only', () => {
    expect([checkSampleSize(undefined), checkSampleSize('250'), checkSampleSize(7)]).toEqual([
      100_000, 250, 7,
    ]);
    for (const bad of [0, -1, 1.5, 'ten', 10_000_001])
      expect(() => checkSampleSize(bad)).toThrow(/sampleSize/);
    expect([checkSeed(undefined), checkSeed('0'), checkSeed(9)]).toEqual([42, 0, 9]);
    for (const bad of [-1, 2 ** 31, 'x']) expect(() => checkSeed(bad)).toThrow(/seed/);
    expect(commaList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
  });

  it('tells the format from the format field, the extension, then the content type', () => {
    expect(referenceFormat({ path: '', name: 'x.bin', format: 'jsonl' })).toBe('jsonl');
    expect(referenceFormat({ path: '', name: 'train.PARQUET' })).toBe('parquet');
    expect(referenceFormat({ path: '', name: 'upload', contentType: 'text/csv; charset=utf-8' })).toBe('csv');
    expect(() => referenceFormat({ path: '', name: 'model.xlsx' })).toThrow(
      /file: "model.xlsx" is not a CSV, Parquet or JSONL file/,
    );
    expect(() => referenceFormat({ path: '', name: 'a.csv', format: 'xml' })).toThrow(/format/);
  });
});

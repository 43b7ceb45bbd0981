import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expf } from './xgboost-expf.js';

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/xgboost/expf.csv');

describe("glibc's expf", () => {
  const rows = readFileSync(VECTORS, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number) as [number, number]);

  it('equals glibc bit for bit, including inputs where glibc is not correctly rounded', () => {
    const differs = rows.filter(([x, y]) => Math.fround(Math.exp(x)) !== y);
    expect(differs.length).toBeGreaterThan(50);
    expect(rows.map(([x]) => expf(x))).toEqual(rows.map(([, y]) => y));
  });

  it('overflows to Infinity, underflows to 0 and keeps NaN, as C does', () => {
    expect(expf(89)).toBe(Number.POSITIVE_INFINITY);
    expect(expf(-104)).toBe(0);
    expect(expf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(expf(Number.NaN)).toBeNaN();
    expect(expf(0)).toBe(1);
  });
});

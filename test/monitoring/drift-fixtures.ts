/**
 * Reads the SciPy fixtures of scripts/fixtures/drift_tests.py and compares with the issue's
 * tolerances: statistics to 1e-9 relative (1e-12 absolute for values near 0), p-values to 1e-6 both
 * absolute and relative, so a tiny p-value (1e-100) must match in its leading digits too.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';

const DIR = resolve(import.meta.dirname, '../fixtures/drift/tests');

/** A number of the fixture files, where JSON's missing infinities are written as strings. */
export type FixtureNumber = number | 'inf' | '-inf' | 'nan';

/** The cases of one fixture file. */
export function fixtureCases<T>(name: string): T[] {
  return (JSON.parse(readFileSync(resolve(DIR, `${name}.json`), 'utf8')) as { cases: T[] }).cases;
}

/** A fixture number as a JS number. */
export function fixtureNumber(value: FixtureNumber): number {
  if (value === 'inf') return Number.POSITIVE_INFINITY;
  if (value === '-inf') return Number.NEGATIVE_INFINITY;
  if (value === 'nan') return Number.NaN;
  return value;
}

/** The error of actual against expected, relative above 1 in magnitude and absolute below. */
export function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
}

/** Asserts a statistic within 1e-9 relative (1e-12 absolute near 0) of SciPy's. */
export function expectStatistic(actual: number, expected: FixtureNumber, what: string): void {
  const e = fixtureNumber(expected);
  if (!Number.isFinite(e)) {
    expect(actual, what).toBe(e);
    return;
  }
  expect(Math.abs(actual - e) <= Math.max(1e-9 * Math.abs(e), 1e-12), `${what}: ${actual} vs ${e}`).toBe(
    true,
  );
}

/** Asserts a p-value within 1e-6 of SciPy's, absolutely and relatively. */
export function expectPValue(actual: number | null, expected: FixtureNumber, what: string): void {
  const e = fixtureNumber(expected);
  expect(actual, what).not.toBeNull();
  const a = actual as number;
  expect(Math.abs(a - e) <= 1e-6, `${what}: ${a} vs ${e} (absolute)`).toBe(true);
  expect(relativeError(a, e) <= 1e-6, `${what}: ${a} vs ${e} (relative)`).toBe(true);
}

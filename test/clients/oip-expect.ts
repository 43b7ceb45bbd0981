/** Assertions shared by the OIP v2 suites: fixture lookup and comparison with library predictions. */
import { expect } from 'vitest';
import { close, comparable, type FixtureModel, readNumericCsv } from './oip-fixtures.js';

export const LGB_BINARY = 'lightgbm-binary_nan';
export const LGB_MULTI = 'lightgbm-multiclass';

/** The fixture served under `name`; throws when its files are missing. */
export function fixtureNamed(fixtures: FixtureModel[], name: string): FixtureModel {
  const found = fixtures.find((f) => f.name === name);
  if (!found) throw new Error(`fixture ${name} missing`);
  return found;
}

/** Asserts an answer's per-row values equal the library's own predictions within tolerance. */
export function expectMatches(model: FixtureModel, output: number[], rows: number): void {
  const expected = readNumericCsv(model.predictionsCsv);
  const actual = comparable(output, rows, expected[0]?.length ?? 1);
  const mismatches = actual.flatMap((row, r) =>
    row
      .filter((v, c) => !close(v, expected[r]?.[c] ?? Number.NaN, model))
      .map((v) => ({ r, v, e: expected[r] })),
  );
  expect(mismatches.slice(0, 3)).toEqual([]);
}

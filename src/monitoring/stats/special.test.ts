import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectPValue, type FixtureNumber, fixtureCases } from '../../../test/monitoring/drift-fixtures.js';
import { chi2Sf, erfc, gammaincc, lnGamma, normSf } from './special.js';

const GRID = resolve(import.meta.dirname, '../../../test/fixtures/drift/tests/special_grid.json');

interface SpecialCase {
  fn: 'gammaincc' | 'chi2Sf' | 'normSf' | 'erfc';
  a?: number;
  x?: number;
  k?: number;
  z?: number;
  expected: FixtureNumber;
}

function evaluate(c: SpecialCase): number {
  if (c.fn === 'gammaincc') return gammaincc(c.a!, c.x!);
  if (c.fn === 'chi2Sf') return chi2Sf(c.x!, c.k!);
  if (c.fn === 'normSf') return normSf(c.z!);
  return erfc(c.x!);
}

describe('special functions', () => {
  for (const c of fixtureCases<SpecialCase>('special')) {
    const args = JSON.stringify({ a: c.a, x: c.x, k: c.k, z: c.z });
    it(`${c.fn}${args} matches SciPy to 1e-6, relatively too for tiny tails`, () => {
      expectPValue(evaluate(c), c.expected, `${c.fn} ${args}`);
    });
  }

  it('keeps chi-square and normal tails within 1e-6 of SciPy over the whole grid, down to 1e-300', () => {
    const grid = (
      JSON.parse(readFileSync(GRID, 'utf8')) as {
        cases: { chi2Sf: [number, number, FixtureNumber][]; normSf: [number, FixtureNumber][] };
      }
    ).cases;
    for (const [x, k, expected] of grid.chi2Sf) expectPValue(chi2Sf(x, k), expected, `chi2Sf(${x}, ${k})`);
    for (const [z, expected] of grid.normSf) expectPValue(normSf(z), expected, `normSf(${z})`);
  });

  it('lnGamma matches the factorials and Γ(1/2) = √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(Math.abs(lnGamma(11) - Math.log(3628800)) / Math.log(3628800)).toBeLessThan(1e-14);
    expect(Math.abs(lnGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
  });

  it('answers the limits: nothing beyond infinity, everything beyond 0', () => {
    expect(chi2Sf(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(chi2Sf(0, 3)).toBe(1);
    expect(normSf(0)).toBe(0.5);
    expect(Number.isNaN(gammaincc(-1, 2))).toBe(true);
  });
});

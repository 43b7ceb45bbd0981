import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kstwoSf } from './kolmogorov.js';
import { smirnov } from './smirnov.js';

interface GridPoint {
  n: number;
  x: number;
  sf: number;
}

function grid(name: string): { scipy: string; points: GridPoint[] } {
  const url = new URL(`../../../test/fixtures/drift/ks/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as { scipy: string; points: GridPoint[] };
}

/** Relative 1e-6 (absolute 1e-6 too, as sf <= 1), floored at 1e-300 for underflow. */
function worstMisses(points: GridPoint[], fn: (n: number, x: number) => number): string[] {
  return points
    .filter((p) => Math.abs(fn(p.n, p.x) - p.sf) > 1e-6 * Math.abs(p.sf) + 1e-300)
    .map((p) => `n=${p.n} x=${p.x}: ${fn(p.n, p.x)} vs ${p.sf}`);
}

describe('kstwoSf', () => {
  const fixture = grid('kstwo');

  it(`matches scipy ${fixture.scipy} kstwo.sf on every branch of the Simard–L'Ecuyer choice`, () => {
    expect(worstMisses(fixture.points, kstwoSf)).toEqual([]);
  });

  it('is 1 at x <= 0 and 0 at x >= 1', () => {
    expect([kstwoSf(10, 0), kstwoSf(10, -1), kstwoSf(10, 1), kstwoSf(10, 2)]).toEqual([1, 1, 0, 0]);
  });

  it('answers NaN for a non-integer or non-positive n, as scipy does', () => {
    expect([kstwoSf(2.5, 0.3), kstwoSf(0, 0.3)].every(Number.isNaN)).toBe(true);
  });
});

describe('smirnov', () => {
  const fixture = grid('smirnov');

  it(`matches scipy ${fixture.scipy} special.smirnov on its special cases, both sums and large n`, () => {
    expect(worstMisses(fixture.points, smirnov)).toEqual([]);
  });
});

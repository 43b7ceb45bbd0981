import { describe, expect, it } from 'vitest';
import { isAscending, sortedFinite } from './sort.js';

/** A seeded mix of magnitudes and signs, with ties. */
function values(n: number, seed: number): Float64Array {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Float64Array.from({ length: n }, (_, i) => {
    const u = next();
    if (i % 97 === 0) return Math.round(u * 10) - 5;
    return (u - 0.4) * 10 ** Math.floor(next() * 12 - 6);
  });
}

const builtIn = (a: Float64Array) => a.filter((x) => Number.isFinite(x)).sort();

/** Positions where the two orders differ (a plain loop: deep equality of 20k values is slow). */
function differences(a: Float64Array, b: Float64Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

describe('sortedFinite', () => {
  it('orders values as the built-in sort does, negatives and positives of every magnitude', () => {
    const a = values(20_000, 7);
    expect(differences(sortedFinite(a), builtIn(a))).toBe(0);
  });

  it('orders a small sample as the built-in sort does', () => {
    const a = values(100, 3);
    expect(sortedFinite(a)).toEqual(builtIn(a));
  });

  it('drops NaN and infinities, the values the window reads as missing', () => {
    const a = values(10_000, 11);
    a[5] = Number.NaN;
    a[6] = Number.POSITIVE_INFINITY;
    a[7] = Number.NEGATIVE_INFINITY;
    const sorted = sortedFinite(a);
    expect(sorted).toHaveLength(a.length - 3);
    expect(differences(sorted, builtIn(a))).toBe(0);
  });

  it('puts -0 with 0 between the negatives and the positives', () => {
    const a = Float64Array.from({ length: 5000 }, (_, i) =>
      i % 3 === 0 ? -0 : i % 3 === 1 ? 1e-300 : -1e-300,
    );
    const sorted = sortedFinite(a);
    expect(isAscending(sorted)).toBe(true);
    expect(sorted[0]).toBe(-1e-300);
    expect(sorted[sorted.length - 1]).toBe(1e-300);
  });

  it('leaves the input as it was', () => {
    const a = values(8192, 5);
    const copy = a.slice();
    sortedFinite(a);
    expect(differences(a, copy)).toBe(0);
  });
});

describe('isAscending', () => {
  it('says whether each value is at most the next', () => {
    expect(isAscending(Float64Array.of(1, 1, 2))).toBe(true);
    expect(isAscending(Float64Array.of(2, 1))).toBe(false);
  });

  it('says no when a value is NaN', () => {
    expect(isAscending(Float64Array.of(1, Number.NaN, 2))).toBe(false);
    expect(isAscending(Float64Array.of(Number.NaN))).toBe(false);
  });
});

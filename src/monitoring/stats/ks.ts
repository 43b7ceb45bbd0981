/**
 * Two-sample Kolmogorov–Smirnov test, exactly as SciPy 1.10's `scipy.stats.ks_2samp` with its
 * defaults (alternative='two-sided', method='auto'): exact p-value when both samples have at most
 * 10000 values, else `kstwo.sf(D, round(n1·n2/(n1+n2)))`.
 */
import { invalidArgument } from '../../core/errors.js';
import type { StatisticResult } from '../drift/types.js';
import { kstwoSf } from './kolmogorov.js';
import { attemptExact2ksSamp, roundHalfEven } from './ks-exact.js';

/** scipy's MAX_AUTO_N: 'auto' tries the exact p-value up to this sample size. */
const MAX_AUTO_N = 10000;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function validated(sample: Float64Array, field: string, which: string, sorted: boolean): Float64Array {
  if (sample.length === 0) {
    throw invalidArgument(field, `the ${which} sample is empty`, 'pass at least one non-null value');
  }
  if (sample.some(Number.isNaN)) {
    throw invalidArgument(field, `the ${which} sample contains NaN`, 'remove NaN values before testing');
  }
  return sorted ? sample : Float64Array.from(sample).sort();
}

/**
 * max over the pooled values of |F1 - F2|, with both ECDFs taken right-continuous (searchsorted
 * side='right'), so tied values move both ECDFs at once, as scipy computes D.
 */
export function ksStatistic(s1: Float64Array, s2: Float64Array): number {
  const n1 = s1.length;
  const n2 = s2.length;
  let i = 0;
  let j = 0;
  let maxS = 0;
  let minS = 0;
  while (i < n1 || j < n2) {
    const x = Math.min(
      i < n1 ? (s1[i] as number) : Number.POSITIVE_INFINITY,
      j < n2 ? (s2[j] as number) : Number.POSITIVE_INFINITY,
    );
    while (i < n1 && s1[i] === x) i++;
    while (j < n2 && s2[j] === x) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (-diff > minS) minS = -diff;
  }
  return minS > maxS ? Math.min(minS, 1) : maxS;
}

/**
 * KS D and the p-value scipy's `ks_2samp(a, b)` answers (exact or asymptotic, as scipy chooses).
 * `sorted`: both samples are already ascending, so they are not copied and sorted again.
 * Throws INVALID_ARGUMENT naming `a` or `b` for an empty sample or one holding NaN.
 */
export function ks2samp(a: Float64Array, b: Float64Array, sorted = false): StatisticResult {
  const s1 = validated(a, 'a', 'first', sorted);
  const s2 = validated(b, 'b', 'second', sorted);
  const n1 = s1.length;
  const n2 = s2.length;
  let d = ksStatistic(s1, s2);
  if (Math.max(n1, n2) <= MAX_AUTO_N) {
    const exact = attemptExact2ksSamp(n1, n2, gcd(n1, n2), d);
    d = exact.d;
    // scipy falls back to the asymptotic p-value (with a warning) when the exact sum is unusable.
    if (exact.pValue !== null) return { score: d, pValue: exact.pValue };
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return { score: d, pValue: Math.min(Math.max(kstwoSf(roundHalfEven(en), d), 0), 1) };
}

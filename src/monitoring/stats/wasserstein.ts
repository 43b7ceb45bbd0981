/**
 * The first Wasserstein distance, exactly `scipy.stats.wasserstein_distance(u, v)` (the area between
 * the two empirical CDFs), and the drift score: that distance divided by the reference's population
 * standard deviation (numpy.std, ddof 0). A constant reference has standard deviation 0; as in
 * Evidently the divisor is then floored at {@link MIN_STD} = 0.001, so the score stays finite and
 * any shift of a constant column still scores high.
 */
import type { StatisticResult } from '../drift/types.js';

/** The smallest divisor of the normed distance. */
export const MIN_STD = 0.001;

/** The area between the empirical CDFs of u and v. */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  return sortedWassersteinDistance(Float64Array.from(u).sort(), Float64Array.from(v).sort());
}

/** {@link wassersteinDistance} of two samples already sorted ascending: one merge, no copy. */
export function sortedWassersteinDistance(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let previous = Math.min(a[0]!, b[0]!);
  let area = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    area += Math.abs(i / a.length - j / b.length) * (next - previous);
    while (i < a.length && a[i] === next) i++;
    while (j < b.length && b[j] === next) j++;
    previous = next;
  }
  return area;
}

/** The population standard deviation, two-pass as numpy.std. */
export function populationStd(values: Float64Array): number {
  let total = 0;
  for (const x of values) total += x;
  const mean = total / values.length;
  let squares = 0;
  for (const x of values) squares += (x - mean) * (x - mean);
  return Math.sqrt(squares / values.length);
}

/** The Wasserstein distance divided by the reference's population standard deviation (floored). */
export function normedWasserstein(
  reference: Float64Array,
  current: Float64Array,
  sorted = false,
): StatisticResult {
  const std = Math.max(populationStd(reference), MIN_STD);
  const distance = sorted
    ? sortedWassersteinDistance(reference, current)
    : wassersteinDistance(reference, current);
  return { score: distance / std, pValue: null };
}

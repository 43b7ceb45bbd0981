/**
 * The pooled two-proportion two-sided z-test for a binary column, as Evidently's `z` test computes
 * it: the "event" is any value other than the first category of the sorted union, p1 and p2 are its
 * shares in the reference and the current sample, P the pooled share, and
 * z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)), p = 2 P(Z > |z|) (scipy.stats.norm.sf).
 * When both samples hold the same single value there is no difference to test: z = 0, p = 1.
 */
import { invalidArgument } from '../../core/errors.js';
import type { StatisticResult } from '../drift/types.js';
import { alignCounts, type Counts } from './categories.js';
import { normSf } from './special.js';

/** z and the two-sided p-value of the difference between two samples' shares of a binary column. */
export function proportionsZTest(
  reference: Counts,
  current: Counts,
  order?: (a: string, b: string) => number,
): StatisticResult {
  const aligned = alignCounts(reference, current, order);
  const k = aligned.categories.length;
  if (k > 2) {
    throw invalidArgument(
      'method',
      `the z-test compares two categories but the column has ${k}`,
      'use chisquare or jensenshannon for a column with more than two categories',
    );
  }
  if (k < 2) return { score: 0, pValue: 1 };
  const n1 = aligned.referenceTotal;
  const n2 = aligned.currentTotal;
  const p1 = aligned.reference[1]! / n1;
  const p2 = aligned.current[1]! / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { score: z, pValue: 2 * normSf(Math.abs(z)) };
}

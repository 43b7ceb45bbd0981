/**
 * Pearson's chi-square goodness-of-fit test of the current sample against the reference's shares,
 * exactly `scipy.stats.chisquare(f_obs=current counts, f_exp=reference shares x current size)` over
 * the union of the categories seen in either sample, with k - 1 degrees of freedom.
 *
 * A category the reference never saw has expected count 0. SciPy then divides by zero: the
 * statistic is +inf and the p-value chi2.sf(inf) = 0. Evidently, whose defaults this monitor
 * follows, passes those zeros to SciPy unchanged, so a category new in the current sample is
 * always drift. That is the rule here too, made explicit: score = +Infinity, p-value = 0.
 * With a single category in both samples there is nothing to compare: score 0, p-value 1.
 */
import type { StatisticResult } from '../drift/types.js';
import { alignCounts, type Counts } from './categories.js';
import { chi2Sf } from './special.js';

/** Chi-square statistic and p-value of the current counts against the reference counts' shares. */
export function chiSquareTest(
  reference: Counts,
  current: Counts,
  order?: (a: string, b: string) => number,
): StatisticResult {
  const aligned = alignCounts(reference, current, order);
  const k = aligned.categories.length;
  if (k < 2) return { score: 0, pValue: 1 };
  const scale = aligned.currentTotal / aligned.referenceTotal;
  let statistic = 0;
  for (let i = 0; i < k; i++) {
    const expected = aligned.reference[i]! * scale;
    const observed = aligned.current[i]!;
    if (expected === 0) return { score: Number.POSITIVE_INFINITY, pValue: 0 };
    statistic += ((observed - expected) * (observed - expected)) / expected;
  }
  return { score: statistic, pValue: chi2Sf(statistic, k - 1) };
}

/**
 * Population Stability Index, sum over bins of (r - c) ln(r / c) with r and c the reference and
 * current shares (numeric columns binned as src/monitoring/stats/bins.ts states, categorical
 * columns over the union of categories). An empty bin has no logarithm, so each sample's zero shares
 * are replaced as Evidently does: by 0.0001, or by the sample's smallest non-zero share / 1e6 when
 * that share is itself <= 0.0001. A bin empty in both samples contributes 0.
 */
import type { StatisticResult } from '../drift/types.js';
import { shares } from './categories.js';

/** The share that stands in for an empty bin of a sample whose smallest non-zero share is given. */
export function emptyBinShare(smallestShare: number): number {
  return smallestShare <= 0.0001 ? smallestShare / 1e6 : 0.0001;
}

function filled(counts: readonly number[]): number[] {
  const s = shares(counts);
  let smallest = Number.POSITIVE_INFINITY;
  for (const v of s) if (v > 0 && v < smallest) smallest = v;
  const fill = emptyBinShare(smallest);
  return s.map((v) => (v === 0 ? fill : v));
}

/** PSI of two samples' counts over the same bins. */
export function psi(referenceCounts: readonly number[], currentCounts: readonly number[]): StatisticResult {
  const r = filled(referenceCounts);
  const c = filled(currentCounts);
  let score = 0;
  for (let i = 0; i < r.length; i++) score += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return { score, pValue: null };
}

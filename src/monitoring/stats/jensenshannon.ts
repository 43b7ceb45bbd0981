/**
 * Jensen–Shannon distance, exactly `scipy.spatial.distance.jensenshannon(p, q, base=2)`: both
 * vectors normalized to sum 1, m = (p + q) / 2, sqrt((KL(p||m) + KL(q||m)) / 2 / ln 2). It lies in
 * [0, 1]. Rounding can leave the sum a hair below 0 for near-identical vectors, where SciPy would
 * answer NaN; it is clamped to 0.
 */
import type { StatisticResult } from '../drift/types.js';
import { shares } from './categories.js';

function relEntr(x: number, y: number): number {
  if (x === 0) return 0;
  return x * Math.log(x / y);
}

/** The base-2 Jensen–Shannon distance of two count (or share) vectors over the same bins. */
export function jensenShannon(p: readonly number[], q: readonly number[], base = 2): StatisticResult {
  const ps = shares(p);
  const qs = shares(q);
  let left = 0;
  let right = 0;
  for (let i = 0; i < ps.length; i++) {
    const m = (ps[i]! + qs[i]!) / 2;
    left += relEntr(ps[i]!, m);
    right += relEntr(qs[i]!, m);
  }
  const js = (left + right) / Math.log(base);
  return { score: Math.sqrt(Math.max(0, js / 2)), pValue: null };
}

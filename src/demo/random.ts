/**
 * Seeded randomness for the demo data: the same seed gives the same users, actions, amounts and
 * retries, so a demo run can be reproduced (only the wall-clock timestamps differ).
 */

/** A seeded uniform generator in [0, 1) (mulberry32: tiny, fast, good enough for test data). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws 1..n with probability proportional to 1/rank^s: a few heavy users, a long tail of light ones. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** s;
    cdf[rank - 1] = total;
  }
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/** Picks a key with probability proportional to its weight. */
export function weightedChoice<K extends string>(
  weights: Readonly<Record<K, number>>,
  random: () => number,
): () => K {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return () => {
    let target = random() * total;
    for (const [key, weight] of entries) {
      target -= weight;
      if (target < 0) return key;
    }
    return entries[entries.length - 1]![0];
  };
}

/** A log-normal draw: most amounts small, a long tail of large purchases. */
export function logNormal(median: number, sigma: number, random: () => number): number {
  const u1 = Math.max(random(), Number.EPSILON);
  const u2 = random();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return median * Math.exp(sigma * normal);
}

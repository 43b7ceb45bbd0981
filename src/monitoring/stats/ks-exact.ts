/**
 * The exact two-sided p-value of the two-sample KS test, as SciPy 1.10's `_attempt_exact_2kssamp`
 * (alternative='two-sided'): D is snapped to the lattice h/lcm(n1, n2), then the proportion of
 * lattice paths leaving the band |x/n1 - y/n2| < h/lcm is counted (Hodges; Viehmann's recursion).
 */

/** Round half to even, as numpy's `np.round`. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Pr(D_{n,n} >= h/n) by the Horner-like alternating sum, as scipy's `_compute_prob_outside_square`. */
export function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/**
 * The proportion of paths from (0,0) to (m,n) that do not stay strictly inside |nx/g - my/g| < h,
 * as scipy's pythran `_compute_outer_prob_inside_method` (a sliding window over one column).
 */
export function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1] as number;
}

/** The outcome of the exact attempt: D snapped to the lattice, and the p-value unless it failed. */
export interface ExactKsResult {
  d: number;
  /** null when scipy would fall back to the asymptotic p-value. */
  pValue: number | null;
}

/** scipy's `_attempt_exact_2kssamp(n1, n2, g, d, 'two-sided')`. */
export function attemptExact2ksSamp(n1: number, n2: number, g: number, d: number): ExactKsResult {
  const lcm = Math.floor(n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const snapped = h / lcm;
  if (h === 0) return { d: snapped, pValue: 1 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  if (!Number.isFinite(prob) || !(prob >= 0 && prob <= 1)) return { d: snapped, pValue: null };
  return { d: snapped, pValue: prob };
}

/**
 * Exact P(D_n <= x) for the two-sided one-sample KS statistic by Pomeranz's recursion, as SciPy's
 * `scipy.stats._ksstats._kolmogn_Pomeranz`.
 */
import { ldexp } from './kolmogorov-durbin.js';

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;

interface PomeranzGrid {
  n: number;
  ll: number;
  ceilf: number;
  roundf: number;
}

/** The interval of non-zero entries of row i, as scipy's `_pomeranz_compute_j1j2`. */
function rowBounds(i: number, { n, ll, ceilf, roundf }: PomeranzGrid): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** r^m / m! for m < count (almost Poisson probabilities, missing the normalising factor). */
function scaledPowers(r: number, count: number): Float64Array {
  const out = new Float64Array(count);
  out[0] = 1;
  for (let m = 1; m < count; m++) out[m] = ((out[m - 1] as number) * r) / m;
  return out;
}

/** Entries [from, from+len) of the full convolution of a[aStart, aStart+aLen) with b[0, aLen). */
function convolveWindow(
  a: Float64Array,
  aStart: number,
  b: Float64Array,
  lenIn: number,
  from: number,
  len: number,
): Float64Array {
  const la = Math.min(lenIn, a.length - aStart);
  const lb = Math.min(lenIn, b.length);
  const out = new Float64Array(len);
  for (let k = from; k < from + len && k < la + lb - 1; k++) {
    let s = 0;
    for (let i = Math.max(0, k - lb + 1); i <= Math.min(k, la - 1); i++) {
      s += (a[aStart + i] as number) * (b[k - i] as number);
    }
    out[k - from] = s;
  }
  return out;
}

/** P(D_n <= x), clipped to [0, 1]. */
export function kolmogornPomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const grid: PomeranzGrid = { n, ll, ceilf: f > 0 ? 1 : 0, roundf: f > 0.5 ? 1 : 0 };
  const npwrs = 2 * (ll + 1);
  const gpower = scaledPowers(g / n, npwrs);
  const twogpower = scaledPowers((2 * g) / n, npwrs);
  const onem2gpower = scaledPowers((1 - 2 * g) / n, npwrs);
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let expnt = 0;
  let [j1, j2] = rowBounds(0, grid);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = rowBounds(i, grid);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const convLen = j2 - j1 + 1;
      V1.set(convolveWindow(V0, k1 - V0s, pwrs, ln2, j1 - k1, convLen));
      let max = Number.NEGATIVE_INFINITY;
      for (const value of V1) max = Math.max(max, value);
      if (max > 0 && max < EM128) {
        for (let j = 0; j < V1.length; j++) V1[j] = (V1[j] as number) * EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s] as number;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return ans < 0 ? 0 : Math.min(ans, 1);
}

/**
 * The one-sided Smirnov survival function P(D+_n >= x), as SciPy's `scipy.special.smirnov` (cephes
 * kolmogorov.c, `_smirnov3`). Same branches, sums and early termination as cephes; cephes carries
 * double-double intermediates, here each term is formed in log space, which keeps the relative
 * error near 1e-11 even for n in the millions (far inside the 1e-6 the drift tests need).
 */

const DBL_EPSILON = 2 ** -52;
/** cephes MINLOG: log(2^-1022). */
const MINLOG = -708.3964185322641;
/** Above this n cephes switches to the closed-form approximation. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
const SM_UPPER_MAX_TERMS = 3;
const SM_UPPERSUM_MIN_N = 10;

/** floor(n*x) and the fractional part computed exactly (Dekker two-product), as cephes `modNX`. */
function modNX(n: number, x: number): { nxfl: number; alpha: number; nx: number } {
  const hi = n * x;
  const lo = twoProductError(n, x, hi);
  let nxfl = Math.floor(hi);
  // hi is integral whenever it is at least 2^52, so the fraction comes from lo alone.
  let alpha = hi - nxfl + lo;
  if (alpha < 0) {
    nxfl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxfl += 1;
    alpha = 0;
  }
  return { nxfl, alpha, nx: hi };
}

/** The rounding error of a*b given p = fl(a*b) (Veltkamp split). */
function twoProductError(a: number, b: number, p: number): number {
  const split = (v: number): [number, number] => {
    const c = 134217729 * v;
    const big = c - (c - v);
    return [big, v - big];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** log|A_v(n, x)| and its sign, A_v = C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1); logC is ln C(n,v). */
function logTerm(n: number, x: number, v: number, logC: number): { log: number; sign: number } {
  const base2 = (n - v) / n - x;
  const base1 = v / n + x;
  const sign = base2 < 0 && (n - v) % 2 === 1 ? -1 : 1;
  const log2part = n - v === 0 ? 0 : (n - v) * Math.log(Math.abs(base2));
  return { log: logC + log2part + (v - 1) * Math.log(base1), sign };
}

/** Sums the Birnbaum–Tingey terms (lower sum) or Dwass terms (upper sum) the way cephes does. */
function smirnovSum(n: number, x: number, upper: boolean, nTerms: number): number {
  const start = upper ? n : 0;
  const step = upper ? -1 : 1;
  let sum = upper ? (1 + x) ** (n - 1) : (1 - x) ** n / x;
  let logC = Math.log(n);
  const vmid = Math.floor(n / 2);
  for (let j = 1; j < nTerms; j++) {
    const v = start + j * step;
    const term = logTerm(n, x, v, logC);
    const aj = term.sign * Math.exp(term.log);
    if (Number.isFinite(aj) && aj !== 0) sum += aj;
    if (aj !== 0) {
      if (4 * (nTerms - j) * Math.abs(aj) < DBL_EPSILON * sum && j !== nTerms - 1) break;
    } else if (j > vmid) {
      break;
    }
    logC += Math.log((n - j) / (j + 1));
  }
  return x * sum;
}

/** scipy.special.smirnov(n, x): the survival function of the one-sided KS statistic D+_n. */
export function smirnov(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { nxfl, alpha, nx } = modNX(n, x);
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return clip01(1 - x * (1 + x) ** (n - 1));
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip01((1 - x) ** n);
  if (n > SMIRNOV_MAX_COMPUTE_N) return clip01(Math.exp(-((6 * nx + 1) ** 2) / 18 / n));
  const nUpperTerms = n - n1mxceil + 1;
  const useUpper =
    (nUpperTerms <= 1 && x < 0.5) ||
    (n >= SM_UPPERSUM_MIN_N && nUpperTerms <= SM_UPPER_MAX_TERMS && x <= 0.5 / Math.sqrt(n));
  const prob = useUpper ? smirnovSum(n, x, true, nUpperTerms) : smirnovSum(n, x, false, n1mxfl + 1);
  return clip01(useUpper ? 1 - prob : prob);
}

function clip01(p: number): number {
  return p < 0 ? 0 : Math.min(p, 1);
}

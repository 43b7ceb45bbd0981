/**
 * The survival function of the two-sided one-sample Kolmogorov–Smirnov statistic D_n, as SciPy
 * 1.10's `scipy.stats.kstwo.sf(x, n)` (`scipy.stats._ksstats.kolmogn(n, x, cdf=False)`): the
 * Simard–L'Ecuyer choice between Ruben–Gambino closed forms, Durbin's matrix, Pomeranz's recursion,
 * Pelz–Good and twice the one-sided Smirnov tail. `ks_2samp` uses it for its asymptotic p-value.
 */
import { kolmogornDurbinCdf } from './kolmogorov-durbin.js';
import { kolmogornPelzGoodCdf } from './kolmogorov-pelz-good.js';
import { kolmogornPomeranzCdf } from './kolmogorov-pomeranz.js';
import { smirnov } from './smirnov.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Stirling series coefficients B_2j/(2j)/(2j-1), j = 8..1, as scipy's `_STIRLING_COEFFS`. */
const STIRLING_COEFFS = [
  -3617 / 122400,
  1 / 156,
  -691 / 360360,
  1 / 1188,
  -1 / 1680,
  1 / 1260,
  -1 / 360,
  1 / 12,
];

/** log(n! / n^n) by Stirling's series with n·log(n) removed up front, as scipy does. */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  const u = rn / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * u + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

function clip01(p: number): number {
  return p < 0 ? 0 : Math.min(p, 1);
}

/** Ruben–Gambino P(D_n <= x) for 1/(2n) < x <= 1/n, with t = n·x. */
function rubenGambinoLowCdf(n: number, t: number): number {
  if (n <= 140) {
    let prod = 1;
    for (let i = 1; i <= n; i++) prod *= i * (1 / n) * (2 * t - 1);
    return prod;
  }
  return Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
}

/** P(D_n >= x) for n <= 140 once the closed forms do not apply. */
function smallNSf(n: number, x: number, nxSquared: number): number {
  if (nxSquared <= 0.754693) return clip01(1 - kolmogornDurbinCdf(n, x));
  if (nxSquared <= 4) return clip01(1 - kolmogornPomeranzCdf(n, x));
  return clip01(2 * smirnov(n, x));
}

/** P(D_n >= x) for n > 140 once the closed forms do not apply. */
function largeNSf(n: number, x: number, nxSquared: number): number {
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip01(2 * smirnov(n, x));
  const useDurbin = n <= 100000 && n * x ** 1.5 <= 1.4;
  return clip01(1 - (useDurbin ? kolmogornDurbinCdf(n, x) : kolmogornPelzGoodCdf(n, x)));
}

/** scipy.stats.kstwo.sf(x, n): P(D_n >= x) for an integer n >= 1. */
export function kstwoSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) return t <= 0.5 ? 1 : clip01(1 - rubenGambinoLowCdf(n, t));
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnov(n, x));
  const nxSquared = t * x;
  return n <= 140 ? smallNSf(n, x, nxSquared) : largeNSf(n, x, nxSquared);
}

/**
 * glibc's `expf` (the algorithm of glibc ≥ 2.28, from ARM's optimized-routines), in double
 * arithmetic exactly as the C code does it. XGBoost's sigmoid and softmax call `expf`, and glibc's
 * result is not always the correctly rounded one, so `Math.fround(Math.exp(x))` differs from XGBoost
 * by an ulp on some inputs; this reproduces glibc's bits instead.
 */

const N = 32;
/** 2^(i/32), correctly rounded doubles (glibc's `__exp2f_data.tab` without its exponent adjustment). */
const TABLE = [
  '0x1.0000000000000p+0',
  '0x1.059b0d3158574p+0',
  '0x1.0b5586cf9890fp+0',
  '0x1.11301d0125b51p+0',
  '0x1.172b83c7d517bp+0',
  '0x1.1d4873168b9aap+0',
  '0x1.2387a6e756238p+0',
  '0x1.29e9df51fdee1p+0',
  '0x1.306fe0a31b715p+0',
  '0x1.371a7373aa9cbp+0',
  '0x1.3dea64c123422p+0',
  '0x1.44e086061892dp+0',
  '0x1.4bfdad5362a27p+0',
  '0x1.5342b569d4f82p+0',
  '0x1.5ab07dd485429p+0',
  '0x1.6247eb03a5585p+0',
  '0x1.6a09e667f3bcdp+0',
  '0x1.71f75e8ec5f74p+0',
  '0x1.7a11473eb0187p+0',
  '0x1.82589994cce13p+0',
  '0x1.8ace5422aa0dbp+0',
  '0x1.93737b0cdc5e5p+0',
  '0x1.9c49182a3f090p+0',
  '0x1.a5503b23e255dp+0',
  '0x1.ae89f995ad3adp+0',
  '0x1.b7f76f2fb5e47p+0',
  '0x1.c199bdd85529cp+0',
  '0x1.cb720dcef9069p+0',
  '0x1.d5818dcfba487p+0',
  '0x1.dfc97337b9b5fp+0',
  '0x1.ea4afa2a490dap+0',
  '0x1.f50765b6e4540p+0',
].map(hexFloat);

/** A C99 hex float literal as a double (exact: the mantissa has at most 53 bits). */
function hexFloat(literal: string): number {
  const match = /^0x1\.([0-9a-f]+)p([+-]\d+)$/.exec(literal)!;
  const mantissa = match[1]!;
  return (1 + Number.parseInt(mantissa, 16) / 16 ** mantissa.length) * 2 ** Number(match[2]);
}

const C0 = hexFloat('0x1.c6af84b912394p-5') / N ** 3;
const C1 = hexFloat('0x1.ebfce50fac4f3p-3') / N ** 2;
const C2 = hexFloat('0x1.62e42ff0c52d6p-1') / N;
const INV_LN2_N = hexFloat('0x1.71547652b82fep+0') * N;
/** 1.5 * 2^52: adding it rounds to an integer, ties to even, as glibc does. */
const SHIFT = 1.5 * 2 ** 52;
/** Above log(2^128) the float overflows; below log(2^-150) it underflows to 0. */
const OVERFLOW = hexFloat('0x1.62e42ep+6');
const UNDERFLOW = -hexFloat('0x1.9fe368p+6');

/** glibc's expf of a float32 value, returned as a float32 value. */
export function expf(x: number): number {
  if (!(Math.abs(x) < 88)) {
    if (Number.isNaN(x)) return x;
    if (x > OVERFLOW) return Number.POSITIVE_INFINITY;
    if (x < UNDERFLOW) return 0;
  }
  const z = INV_LN2_N * x;
  const kd = z + SHIFT - SHIFT;
  const r = z - kd;
  const s = TABLE[kd & (N - 1)]! * 2 ** (kd >> 5);
  const p = C0 * r + C1;
  const y = (p * (r * r) + (C2 * r + 1)) * s;
  return Math.fround(y);
}

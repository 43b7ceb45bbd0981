/**
 * `exp` as glibc 2.28+ computes it on x86-64 with FMA (the `__exp_fma` variant LightGBM's `std::exp`
 * resolves to on current CPUs): the table-driven algorithm of ARM's optimized-routines (N = 128,
 * degree-5 polynomial), with the fused multiply-adds GCC contracts it into. V8's `Math.exp` differs
 * from it in the last bit for a few percent of inputs, which would break bit-exact sigmoid and
 * softmax outputs. The 2^(k/128) table is computed here with exact integer arithmetic.
 */

const N = 128;
const INV_LN2_N = Math.LOG2E * N; // 0x1.71547652b82fep0 * N
const SHIFT = 6755399441055744; // 0x1.8p52
const NEG_LN2_HI_N = -0.005415212348111709; // -0x1.62e42fefa0000p-8
const NEG_LN2_LO_N = -1.2864023111638346e-14; // -0x1.cf79abc9e3b3ap-47
const C2 = 0.49999999999996786; // 0x1.ffffffffffdbdp-2
const C3 = 0.16666666666665886; // 0x1.555555555543cp-3
const C4 = 0.0416666808410674; // 0x1.55555cf172b91p-5
const C5 = 0.008333335853059549; // 0x1.1111167a4d017p-7
const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant for doubles

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer); // little-endian: [low, high]

/** Per k: the tail T[k] and the high and low words of `asuint64(H[k]) - (k << 45)`, H[k]·(1+T[k]) ≈ 2^(k/N). */
export const EXP_TABLE = buildTable();

/** glibc's `exp(x)`, bit for bit (FMA variant). */
export function glibcExp(x: number): number {
  scratch[0] = x;
  let abstop = (words[1]! >>> 20) & 0x7ff;
  if (abstop - 0x3c9 >= 0x408 - 0x3c9 || abstop < 0x3c9) {
    if (abstop < 0x3c9) return 1 + x;
    if (abstop >= 0x409) {
      if (x === Number.NEGATIVE_INFINITY) return 0;
      if (abstop >= 0x7ff) return 1 + x;
      return x < 0 ? 0 : Number.POSITIVE_INFINITY;
    }
    abstop = 0;
  }
  const kd = INV_LN2_N * x + SHIFT - SHIFT;
  const k = kd | 0;
  // kd * NEG_LN2_HI_N is exact (a 36-bit constant times |k| < 2^17), so only the low part needs fusing.
  const r = fma(kd, NEG_LN2_LO_N, x + kd * NEG_LN2_HI_N);
  const i = k & (N - 1);
  const tail = EXP_TABLE.tail[i]!;
  const high = (EXP_TABLE.high[i]! + (k << 13)) | 0;
  const low = EXP_TABLE.low[i]!;
  const r2 = r * r;
  const tmp = fma(r2 * r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r));
  if (abstop === 0) return specialCase(tmp, high, low, k);
  const scale = fromWords(high, low);
  return fma(scale, tmp, scale);
}

/** Results near overflow or in the subnormal range, where the scale's exponent needs rebasing. */
function specialCase(tmp: number, high: number, low: number, k: number): number {
  if (k >= 0) {
    const scale = fromWords(high - (1009 << 20), low);
    return 2 ** 1009 * fma(scale, tmp, scale);
  }
  const scale = fromWords(high + (1022 << 20), low);
  let y = scale + scale * tmp;
  if (y < 1) {
    let lo = fma(scale, tmp, scale - y);
    const hi = 1 + y;
    lo = 1 - hi + y + lo;
    y = hi + lo - 1;
    if (y === 0) y = 0;
  }
  return 2 ** -1022 * y;
}

function fromWords(high: number, low: number): number {
  words[1] = high;
  words[0] = low;
  return scratch[0]!;
}

/**
 * Correctly rounded `a * b + c` (Boldo and Melquiond's emulation: the exact product and sum split into
 * high and low parts, the low parts added with rounding to odd, then one rounding to nearest).
 * Valid away from overflow and underflow, which the callers above guarantee.
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  const ta = SPLITTER * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLITTER * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  const pl = ah * bh - p + ah * bl + al * bh + al * bl;
  const th = c + p;
  const cv = th - c;
  const tl = c - (th - cv) + (p - cv);
  // The low parts' sum, rounded to odd: when inexact, the neighbour with an odd last bit.
  const s = tl + pl;
  const sv = s - tl;
  const err = tl - (s - sv) + (pl - sv);
  if (err === 0) return th + s;
  scratch[0] = s;
  if ((words[0]! & 1) === 0) {
    if (err > 0 === s > 0) words[0] = words[0]! + 1;
    else if (words[0] === 0) {
      words[0] = 0xffffffff;
      words[1] = words[1]! - 1;
    } else words[0] = words[0]! - 1;
  }
  return th + scratch[0]!;
}

interface ExpTable {
  tail: Float64Array;
  high: Int32Array;
  low: Uint32Array;
}

/** 2^(k/128) to 256 bits by seven square roots of 2 and repeated products, rounded to doubles. */
function buildTable(): ExpTable {
  const bits = 256n;
  const one = 1n << bits;
  let root = 2n << bits;
  for (let i = 0; i < 7; i++) root = isqrt(root << bits);
  const table: ExpTable = { tail: new Float64Array(N), high: new Int32Array(N), low: new Uint32Array(N) };
  let power = one;
  for (let k = 0; k < N; k++) {
    const mantissa = roundShift(power, bits - 52n);
    const head = mantissa << (bits - 52n);
    table.tail[k] = toDouble(((power - head) << bits) / head, bits);
    scratch[0] = Number(mantissa) * 2 ** -52;
    table.high[k] = (words[1]! - (k << 13)) | 0;
    table.low[k] = words[0]!;
    power = (power * root) >> bits;
  }
  return table;
}

function isqrt(n: bigint): bigint {
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const next = (x + n / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/** `round(value / 2^shift)`, ties to even. */
function roundShift(value: bigint, shift: bigint): bigint {
  const q = value >> shift;
  const rest = value - (q << shift);
  const half = 1n << (shift - 1n);
  return rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
}

/** The double nearest to `value / 2^bits`. */
function toDouble(value: bigint, bits: bigint): number {
  if (value === 0n) return 0;
  const sign = value < 0n ? -1 : 1;
  const magnitude = value < 0n ? -value : value;
  const shift = BigInt(Math.max(0, magnitude.toString(2).length - 53));
  const mantissa = shift > 0n ? roundShift(magnitude, shift) : magnitude;
  return sign * Number(mantissa) * 2 ** Number(shift - bits);
}

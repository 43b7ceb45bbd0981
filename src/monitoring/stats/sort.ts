/**
 * Sorting doubles for the raw-value statistics: an LSD radix sort over the doubles' bits, six
 * passes of 11 bits (2048 buckets keep the scattered writes in cache; 16-bit digits were 4x slower),
 * a pass skipped when every value shares its digit. Non-negative values sort by their bits as
 * unsigned integers; negative values are sorted apart by their bits and reversed. Measured on 1M
 * normal values it is several times faster than `Float64Array.prototype.sort`, which dominated a
 * window's comparison once the values were read column-wise.
 */

const BITS = 11;
const DIGITS = 1 << BITS;
const PASSES = 6;
/** Below this many values the built-in sort is as fast and allocates less. */
const SMALL = 4096;

const finite = (x: number) => x - x === 0;

/** Ascending copy of the finite values (NaN is the offline store's NULL; infinities count as missing). */
export function sortedFinite(values: Float64Array): Float64Array {
  if (values.length < SMALL) return values.filter(finite).sort();
  let negatives = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!finite(x)) continue;
    if (x < 0 || (x === 0 && 1 / x < 0)) negatives++;
    n++;
  }
  const out = new Float64Array(n);
  let neg = 0;
  let pos = negatives;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!finite(x)) continue;
    if (x < 0 || (x === 0 && 1 / x < 0)) out[neg++] = x;
    else out[pos++] = x;
  }
  const below = out.subarray(0, negatives);
  if (negatives < SMALL) below.sort();
  else radixByBits(below).reverse();
  radixByBits(out.subarray(negatives));
  return out;
}

/** Sorts values of one sign in place by their bits as unsigned 64-bit integers. */
function radixByBits(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < SMALL) return values.sort();
  const counts = histograms(values);
  let src: Float64Array = values;
  let dst: Float64Array = new Float64Array(n);
  for (let pass = 0; pass < PASSES; pass++) {
    const offsets = counts.subarray(pass * DIGITS, (pass + 1) * DIGITS);
    if (!prefixSums(offsets, n)) continue;
    scatter(src, dst, offsets, pass);
    [src, dst] = [dst, src];
  }
  if (src !== values) values.set(src);
  return values;
}

function histograms(values: Float64Array): Uint32Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const counts = new Uint32Array(PASSES * DIGITS);
  for (let i = 0; i < values.length; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    counts[lo & 0x7ff]!++;
    counts[DIGITS + ((lo >>> 11) & 0x7ff)]!++;
    counts[2 * DIGITS + (((lo >>> 22) | (hi << 10)) & 0x7ff)]!++;
    counts[3 * DIGITS + ((hi >>> 1) & 0x7ff)]!++;
    counts[4 * DIGITS + ((hi >>> 12) & 0x7ff)]!++;
    counts[5 * DIGITS + (hi >>> 23)]!++;
  }
  return counts;
}

/** Turns counts into start offsets in place; false when one digit holds all n values (no move). */
function prefixSums(counts: Uint32Array, n: number): boolean {
  let total = 0;
  for (let d = 0; d < DIGITS; d++) {
    const c = counts[d]!;
    if (c === n) return false;
    counts[d] = total;
    total += c;
  }
  return true;
}

/** Where pass p's digit sits: the word (0 low, 1 high) and shift; pass 2 spans both words. */
const WORD = [0, 0, -1, 1, 1, 1];
const SHIFT = [0, 11, 22, 1, 12, 23];

function scatter(src: Float64Array, dst: Float64Array, offsets: Uint32Array, pass: number): void {
  const words = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const n = src.length;
  const word = WORD[pass]!;
  const shift = SHIFT[pass]!;
  if (word < 0) {
    for (let i = 0; i < n; i++) {
      const d = ((words[2 * i]! >>> 22) | (words[2 * i + 1]! << 10)) & 0x7ff;
      dst[offsets[d]!++] = src[i]!;
    }
    return;
  }
  for (let i = 0; i < n; i++) dst[offsets[(words[2 * i + word]! >>> shift) & 0x7ff]!++] = src[i]!;
}

/** Whether the values are ascending (NaN anywhere makes them not). */
export function isAscending(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) if (!(values[i - 1]! <= values[i]!)) return false;
  return values.length !== 1 || !Number.isNaN(values[0]);
}

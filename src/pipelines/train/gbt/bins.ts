/**
 * Quantile binning of features, as XGBoost's hist method does before growing trees: each feature's
 * float32 values are cut at up to `maxBin - 1` quantiles (exact quantiles here, where XGBoost uses a
 * weighted quantile sketch), each cut being a data value. A value's bin is the number of cuts at or
 * below it, so "bin <= b" means "value < cut[b]": the split condition a tree node stores, the one
 * XGBoost's predictor and the serving runtime test.
 */

/** The bin of a missing value (NaN). */
export const MISSING = 0xffffffff;

/** Every row's bin of every feature, as a global bin number (features' bins laid end to end). */
export interface BinnedMatrix {
  rows: number;
  featureCount: number;
  /** Row-major global bin numbers, MISSING for NaN. */
  bins: Uint32Array;
  /** Feature j's bins are offsets[j] .. offsets[j + 1] - 1. */
  offsets: Int32Array;
  /** Upper bound (exclusive) of each global bin, a float32 value; the last bin's is above the maximum. */
  cuts: Float64Array;
  /** Whether the feature has any missing value, so splits try sending missing values both ways. */
  hasMissing: Uint8Array;
}

/** Bins a row-major matrix into at most `maxBin` bins per feature. */
export function binMatrix(
  features: Float64Array,
  rows: number,
  featureCount: number,
  maxBin: number,
): BinnedMatrix {
  const offsets = new Int32Array(featureCount + 1);
  const cuts: number[] = [];
  const hasMissing = new Uint8Array(featureCount);
  const featureCuts: Float64Array[] = [];
  for (let j = 0; j < featureCount; j++) {
    const values = presentValues(features, rows, featureCount, j);
    hasMissing[j] = values.length < rows ? 1 : 0;
    const own = quantileCuts(values, maxBin);
    featureCuts.push(own);
    offsets[j] = cuts.length;
    cuts.push(...own);
  }
  offsets[featureCount] = cuts.length;
  const bins = new Uint32Array(rows * featureCount);
  for (let j = 0; j < featureCount; j++) {
    const own = featureCuts[j]!;
    const offset = offsets[j]!;
    for (let r = 0; r < rows; r++) {
      const x = Math.fround(features[r * featureCount + j]!);
      bins[r * featureCount + j] = Number.isNaN(x) ? MISSING : offset + upperBound(own, x);
    }
  }
  return { rows, featureCount, bins, offsets, cuts: Float64Array.from(cuts), hasMissing };
}

/** Column `j`'s non-missing values as sorted float32 values. */
function presentValues(features: Float64Array, rows: number, d: number, j: number): Float32Array {
  const values = new Float32Array(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const x = features[r * d + j]!;
    if (!Number.isNaN(x)) values[n++] = x;
  }
  return values.subarray(0, n).sort();
}

/**
 * Cuts at the values of ranks k * n / maxBin (k = 1 .. maxBin - 1), strictly increasing and above
 * the minimum, then one past the maximum (XGBoost's `max + |max| + 1e-5`) closing the last bin.
 */
function quantileCuts(sorted: Float32Array, maxBin: number): Float64Array {
  const n = sorted.length;
  if (n === 0) return Float64Array.of(Number.POSITIVE_INFINITY);
  const cuts: number[] = [];
  let last = sorted[0]!;
  for (let k = 1; k < maxBin; k++) {
    const v = sorted[Math.floor((k * n) / maxBin)]!;
    if (v > last) {
      cuts.push(v);
      last = v;
    }
  }
  const max = sorted[n - 1]!;
  cuts.push(Math.fround(max + Math.abs(max) + 1e-5));
  return Float64Array.from(cuts);
}

/** The index of the first cut above `x` (cuts ascending). */
function upperBound(cuts: Float64Array, x: number): number {
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The drift decisions and their defaults, as Evidently makes them: the method by column type and
 * reference size, the threshold by method, the three-level status and dataset drift.
 *
 * - Reference of at most 1000 non-null values: KS for a numerical column with more than 5
 *   distinct values, otherwise chi-square with more than 2 distinct values, otherwise the z-test;
 *   drift at p < 0.05.
 * - Larger reference: normed Wasserstein for a numerical column with more than 5 distinct values,
 *   otherwise Jensen–Shannon; drift at a distance >= 0.1.
 *   (Distinct values are counted over both samples, nulls excluded.)
 * - Status: `drift` when drifted; `warning` when not drifted but within a factor of 2 of the
 *   threshold (a p-value below 2 x threshold, 0.05 <= p < 0.1 by default; a distance at or above
 *   threshold / 2, 0.05 <= d < 0.1 by default); `ok` otherwise.
 * - Dataset drift when at least 50% of the compared columns drift.
 * - A column without a stated type is numerical when every non-null value in both samples is a
 *   number, categorical otherwise (strings, booleans, or a mix).
 * Every choice can be overridden per column (method, threshold) and per report (the shares).
 */
import { type ColumnType, type DriftMethod, type DriftStatus, TEST_METHODS } from './types.js';

/** Reference sizes up to this use the statistical tests; larger ones the distances. */
export const SMALL_REFERENCE_ROWS = 1000;
/** More distinct values than this make a numerical column continuous for the defaults. */
export const MAX_DISCRETE_DISTINCT = 5;
/** More distinct values than this take chi-square rather than the z-test. */
export const MAX_BINARY_DISTINCT = 2;
/** Tests drift when p < this. */
export const DEFAULT_P_THRESHOLD = 0.05;
/** Distances drift when the score >= this. */
export const DEFAULT_DISTANCE_THRESHOLD = 0.1;
/** The dataset drifts when at least this share of its columns drift. */
export const DEFAULT_DATASET_DRIFT_SHARE = 0.5;
/** A column within this factor of its threshold (not yet drifted) is a warning. */
export const DEFAULT_WARNING_FACTOR = 2;

/** The column types each method accepts; chi-square and z-test take a numerical column's values as categories. */
export const METHOD_TYPES: Readonly<Record<DriftMethod, readonly ColumnType[]>> = {
  ks: ['numerical'],
  wasserstein: ['numerical'],
  chisquare: ['numerical', 'categorical'],
  z: ['numerical', 'categorical'],
  jensenshannon: ['numerical', 'categorical'],
  psi: ['numerical', 'categorical'],
};

/** The default method for a column of this type, reference size and number of distinct values. */
export function defaultMethod(type: ColumnType, referenceRows: number, distinct: number): DriftMethod {
  const continuous = type === 'numerical' && distinct > MAX_DISCRETE_DISTINCT;
  if (referenceRows <= SMALL_REFERENCE_ROWS) {
    if (continuous) return 'ks';
    return distinct > MAX_BINARY_DISTINCT ? 'chisquare' : 'z';
  }
  return continuous ? 'wasserstein' : 'jensenshannon';
}

/** Whether the method is a test (p-value) rather than a distance. */
export function isTest(method: DriftMethod): boolean {
  return TEST_METHODS.has(method);
}

/** The default threshold of a method: p < 0.05 for tests, distance >= 0.1 for distances. */
export function defaultThreshold(method: DriftMethod): number {
  return isTest(method) ? DEFAULT_P_THRESHOLD : DEFAULT_DISTANCE_THRESHOLD;
}

/** Whether a score (or p-value, for tests) crosses the threshold. */
export function isDrifted(
  method: DriftMethod,
  score: number,
  pValue: number | null,
  threshold: number,
): boolean {
  return isTest(method) ? (pValue ?? 1) < threshold : score >= threshold;
}

/** ok, warning (within the factor of the threshold) or drift. */
export function driftStatus(
  method: DriftMethod,
  score: number,
  pValue: number | null,
  threshold: number,
  warningFactor = DEFAULT_WARNING_FACTOR,
): DriftStatus {
  if (isDrifted(method, score, pValue, threshold)) return 'drift';
  const near = isTest(method)
    ? (pValue ?? 1) < threshold * warningFactor
    : score >= threshold / warningFactor;
  return near ? 'warning' : 'ok';
}

/** Whether a dataset with this share of drifted columns drifts. */
export function isDatasetDrift(driftShare: number, minShare = DEFAULT_DATASET_DRIFT_SHARE): boolean {
  return driftShare >= minShare;
}

/** The type of a column nobody typed: numerical when every non-null value is a number. */
export function inferColumnType(...samples: readonly (readonly unknown[])[]): ColumnType {
  for (const values of samples) {
    for (const value of values)
      if (value !== null && value !== undefined && typeof value !== 'number') return 'categorical';
  }
  return 'numerical';
}

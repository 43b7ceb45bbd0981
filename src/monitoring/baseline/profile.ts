/**
 * The baseline profile of a model version: what drift, data quality and performance windows are
 * compared with, computed once from the reference (training) dataset. Stored as JSON, so infinite
 * bin edges are implied rather than written: a numeric column's `cuts` are the inner edges only.
 */
import type { ColumnType } from '../drift/types.js';

/** Reference quantile probabilities recorded for every numeric column. */
export const QUANTILE_PROBS: readonly number[] = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];

/** Equal-frequency bins: the inner cuts are the reference deciles (0.1 ... 0.9), duplicates merged. */
export const BIN_PROBS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Categories kept by name per categorical column; the rest are summed into `other`. */
export const TOP_CATEGORIES = 100;

/**
 * Distinct counts are exact up to this; above it they are reported as the cap with
 * `distinctCapped: true` (counting millions of distinct doubles exactly costs seconds per column,
 * and only small counts steer the choice of drift method).
 */
export const DISTINCT_CAP = 10_000;

/** Sampled values kept per numeric column when the upload does not say. */
export const DEFAULT_SAMPLE_SIZE = 100_000;

/** The largest sample size accepted per column. */
export const MAX_SAMPLE_SIZE = 10_000_000;

/** The seed of the sample when the upload does not say. */
export const DEFAULT_SAMPLE_SEED = 42;

export type ColumnRole = 'feature' | 'prediction' | 'label';

/** What every column records; shares are over all rows, nulls included. */
interface ColumnBase {
  role: ColumnRole;
  /** The reference file's own type of the column, e.g. DOUBLE, BIGINT, VARCHAR. */
  sourceType: string;
  /** Non-null values (NaN and ±Infinity count as null for numeric columns). */
  count: number;
  nulls: number;
  nullShare: number;
  distinct: number;
  /** True when there are more distinct values than DISTINCT_CAP (then `distinct` is the cap). */
  distinctCapped: boolean;
}

/**
 * Bins (-inf, cuts[0]], (cuts[0], cuts[1]], ..., (cuts[k-1], +inf): right-closed, so a value's bin
 * index is the number of cuts strictly below it (numpy `searchsorted(cuts, x, side='left')`).
 */
export interface NumericBins {
  cuts: number[];
  /** One per bin (cuts.length + 1), over non-null values. */
  counts: number[];
  shares: number[];
}

export interface NumericColumnProfile extends ColumnBase {
  type: 'numerical';
  /** Null when the column has no non-null value; likewise for the statistics below. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation (ddof = 0). */
  std: number | null;
  /** Linear-interpolation quantiles (numpy's default) at QUANTILE_PROBS, in that order. */
  quantiles: { probs: number[]; values: number[] } | null;
  bins: NumericBins | null;
}

export interface CategoryShare {
  /** The value as text (DuckDB's VARCHAR cast: true/false for booleans, 1 for integers, 1.5 for doubles). */
  value: string;
  count: number;
  /** Over non-null values. */
  share: number;
}

export interface CategoricalColumnProfile extends ColumnBase {
  type: 'categorical';
  /** The most frequent categories (at most TOP_CATEGORIES), by count then value. */
  categories: CategoryShare[];
  /** The categories past the top ones, summed; share over non-null values (`categories` is a lower bound when distinctCapped). */
  other: { categories: number; count: number; share: number };
}

export type ColumnProfile = NumericColumnProfile | CategoricalColumnProfile;

/** Where the sampled raw values of the numeric columns are, and how they were drawn. */
export interface SampleInfo {
  /** Artifact path of a Parquet file with columns `column` (VARCHAR) and `value` (DOUBLE). */
  path: string;
  sha256: string;
  seed: number;
  /** The per-column cap asked for. */
  sampleSize: number;
  /** Values sampled per numeric column: min(sampleSize, non-null count). */
  counts: Record<string, number>;
}

export interface BaselineProfile {
  model: string;
  version: number;
  rows: number;
  format: ReferenceFormat;
  features: string[];
  prediction: string | null;
  label: string | null;
  binning: { kind: 'equal-frequency'; probs: number[]; closed: 'right' };
  topCategories: number;
  columns: Record<string, ColumnProfile>;
  sample: SampleInfo;
  createdAt: string;
}

/** What `PUT .../baseline` answers: the profile without its per-column detail. */
export interface BaselineSummary {
  model: string;
  version: number;
  rows: number;
  features: string[];
  prediction: string | null;
  label: string | null;
  columns: Record<string, { type: ColumnType; role: ColumnRole; nullShare: number }>;
  sample: SampleInfo;
  createdAt: string;
}

export const REFERENCE_FORMATS = ['csv', 'parquet', 'jsonl'] as const;
export type ReferenceFormat = (typeof REFERENCE_FORMATS)[number];

/** The full bin edges of a numeric column, with the implied infinite outer edges. */
export function binEdges(bins: NumericBins): number[] {
  return [Number.NEGATIVE_INFINITY, ...bins.cuts, Number.POSITIVE_INFINITY];
}

/** The profile's summary, as `PUT .../baseline` answers it. */
export function summarize(profile: BaselineProfile): BaselineSummary {
  const columns: BaselineSummary['columns'] = {};
  for (const [name, c] of Object.entries(profile.columns)) {
    columns[name] = { type: c.type, role: c.role, nullShare: c.nullShare };
  }
  const { model, version, rows, features, prediction, label, sample, createdAt } = profile;
  return { model, version, rows, features, prediction, label, columns, sample, createdAt };
}

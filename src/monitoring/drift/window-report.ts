/**
 * What a window comparison answers (the on-demand route's body and the scheduled job's outcome) and
 * how its parts are built from the baseline profile and the window.
 */
import type { BaselineProfile } from '../baseline/profile.js';
import type { WindowPerformance } from '../performance/window-performance.js';
import type { FeatureQuality } from '../quality/window-quality.js';
import type { ColumnDrift } from './types.js';
import type { WindowSpec } from './window-extract.js';

/** A window's drift: the `POST /v1/drift` columns (features) plus the prediction output and the window. */
export interface WindowDriftResult {
  model: string;
  version: number;
  window: { from: string; to: string };
  rows: number;
  minRows: number;
  status: 'insufficient_data' | 'compared';
  /** Null when the window had too few rows. */
  datasetDrift: boolean | null;
  driftShare: number | null;
  drifted: number;
  columns: Record<string, ColumnDrift>;
  /** The prediction output against the baseline's prediction column, when it has one. */
  prediction: (ColumnDrift & { column: string }) | null;
  /** Per compared column: rows where it was null or missing. */
  nulls: Record<string, number>;
  /** Columns not compared, with why (no value in the window or in the baseline). */
  skipped: Record<string, string>;
  /** Data quality per feature against the baseline (empty when the window had too few rows). */
  quality: Record<string, FeatureQuality>;
  /** The version's performance over the window's labelled predictions, and its label drift. */
  performance: WindowPerformance;
}

/** A window's drift before its performance is added. */
export type WindowDrift = Omit<WindowDriftResult, 'performance'>;

/** What to extract for the profile's features and prediction over the window. */
export function windowSpec(profile: BaselineProfile, window: { from: Date; to: Date }): WindowSpec {
  const prediction = profile.prediction ? profile.columns[profile.prediction] : undefined;
  return {
    model: profile.model,
    version: profile.version,
    from: window.from,
    to: window.to,
    features: profile.features,
    ...(profile.prediction && prediction
      ? { prediction: { name: profile.prediction, type: prediction.type } }
      : {}),
  };
}

/** The fields every result has. */
export function base(spec: WindowSpec, rows: number, minRows: number) {
  return {
    model: spec.model,
    version: spec.version,
    window: { from: spec.from.toISOString(), to: spec.to.toISOString() },
    rows,
    minRows,
  };
}

/** The result of a window with fewer rows than the minimum. */
export function insufficient(spec: WindowSpec, rows: number, minRows: number): WindowDrift {
  return {
    ...base(spec, rows, minRows),
    status: 'insufficient_data',
    datasetDrift: null,
    driftShare: null,
    drifted: 0,
    columns: {},
    prediction: null,
    nulls: {},
    skipped: {},
    quality: {},
  };
}

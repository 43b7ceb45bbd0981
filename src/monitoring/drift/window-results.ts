/**
 * Where a window's drift goes: rows appended to the offline table `drift_results` (one per compared
 * column, or one per model version when the window had too few rows), the Prometheus gauges of
 * ../metric-names.ts, and the samples the alert evaluator watches; a window that failed after its
 * retries is stored as a `failed` row with its error. The prediction output and the label (the
 * window's labelled rows against the baseline's label column) are stored and scored like a feature
 * but sent to no feature-drift gauge or alert: those are about inputs.
 */
import { Gauge, type Registry } from 'prom-client';
import type { OfflineRow, OfflineSchema, OfflineStore } from '../../stores/offline/port.js';
import type { MetricSample } from '../alerts/evaluator.js';
import { DATASET_DRIFT_SHARE, FEATURE_DRIFT_SCORE, FEATURE_DRIFTED } from '../metric-names.js';
import type { ColumnDrift } from './types.js';
import type { WindowDriftResult } from './window-report.js';

export const DRIFT_RESULTS_TABLE = 'drift_results';

export const DRIFT_RESULTS_SCHEMA: OfflineSchema = {
  model: 'string',
  version: 'int64',
  window_start: 'timestamp',
  window_end: 'timestamp',
  /** Null on an `insufficient_data` row. */
  feature: 'string',
  /** feature, prediction or label. */
  role: 'string',
  method: 'string',
  score: 'float64',
  p_value: 'float64',
  threshold: 'float64',
  /** ok, warning, drift, insufficient_data or failed. */
  status: 'string',
  drifted: 'bool',
  /** Rows of the window. */
  rows: 'int64',
  /** Rows of the window where the column was null or missing. */
  nulls: 'int64',
  computed_at: 'timestamp',
  /** Why a `failed` row failed. */
  error: 'string',
};

/** One compared column of a window. */
export interface ColumnOutcome {
  column: string;
  role: 'feature' | 'prediction' | 'label';
  drift: ColumnDrift;
  nulls: number;
}

/** A window's outcome, as stored and exported. */
export interface WindowOutcome {
  model: string;
  version: number;
  from: Date;
  to: Date;
  rows: number;
  /** Null when the window had too few rows. */
  driftShare: number | null;
  columns: ColumnOutcome[];
  computedAt: number;
}

/** The outcome of a window's result: its compared columns, the prediction, then the label. */
export function windowOutcome(
  result: WindowDriftResult,
  window: { from: Date; to: Date },
  computedAt: number,
): WindowOutcome {
  const column = (name: string, role: ColumnOutcome['role'], drift: ColumnDrift) => ({
    column: name,
    role,
    drift,
    nulls: result.nulls[name] ?? 0,
  });
  const label = result.performance.labelDrift;
  return {
    model: result.model,
    version: result.version,
    from: window.from,
    to: window.to,
    rows: result.rows,
    driftShare: result.driftShare,
    columns: [
      ...Object.entries(result.columns).map(([name, drift]) => column(name, 'feature', drift)),
      ...(result.prediction ? [column(result.prediction.column, 'prediction', result.prediction)] : []),
      // The label's missing rows are the window's unlabelled predictions.
      ...(label
        ? [{ ...column(label.column, 'label', label), nulls: result.rows - label.windowLabels }]
        : []),
    ],
    computedAt,
  };
}

/** The offline rows of a window's outcome; a window with too few rows still keeps its label row. */
export function resultRows(o: WindowOutcome): OfflineRow[] {
  const common = {
    model: o.model,
    version: o.version,
    window_start: o.from,
    window_end: o.to,
    rows: o.rows,
    computed_at: o.computedAt,
  };
  const columns = o.columns.map((c) => ({
    ...common,
    feature: c.column,
    role: c.role,
    method: c.drift.method,
    score: c.drift.score,
    p_value: c.drift.pValue,
    threshold: c.drift.threshold,
    status: c.drift.status,
    drifted: c.drift.drifted,
    nulls: c.nulls,
  }));
  if (o.driftShare !== null) return columns;
  const insufficientRow = {
    ...common,
    status: 'insufficient_data',
    drifted: false,
    nulls: null,
    feature: null,
  };
  return [insufficientRow, ...columns];
}

/** Appends the outcome to `drift_results` (creating the table on first use). */
export async function storeOutcome(offline: OfflineStore, o: WindowOutcome): Promise<void> {
  await offline.ensureTable(DRIFT_RESULTS_TABLE, DRIFT_RESULTS_SCHEMA);
  await offline.append(DRIFT_RESULTS_TABLE, resultRows(o));
}

/** Appends a `failed` row: a window that could not be compared, with the error. */
export async function storeFailure(
  offline: OfflineStore,
  failed: { model: string; version: number; from: Date; to: Date; error: string },
  computedAt: number,
): Promise<void> {
  await offline.ensureTable(DRIFT_RESULTS_TABLE, DRIFT_RESULTS_SCHEMA);
  await offline.append(DRIFT_RESULTS_TABLE, [
    {
      model: failed.model,
      version: failed.version,
      window_start: failed.from,
      window_end: failed.to,
      status: 'failed',
      drifted: false,
      computed_at: computedAt,
      error: failed.error,
    },
  ]);
}

/** The alert evaluator's samples of an outcome: dataset share and per-feature drifted flags. */
export function outcomeSamples(o: WindowOutcome): MetricSample[] {
  if (o.driftShare === null) return [];
  const base = { model: o.model, version: String(o.version) };
  const samples: MetricSample[] = [
    { metric: DATASET_DRIFT_SHARE, labels: base, value: o.driftShare, time: o.computedAt },
  ];
  for (const c of o.columns) {
    if (c.role !== 'feature') continue;
    const labels = { ...base, feature: c.column, method: c.drift.method };
    samples.push({ metric: FEATURE_DRIFTED, labels, value: c.drift.drifted ? 1 : 0, time: o.computedAt });
  }
  return samples;
}

function gauge(registry: Registry, name: string, help: string, labels: string[]): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name, help, labelNames: labels, registers: [registry] });
}

/** The drift gauges of one registry. */
export class DriftGauges {
  private readonly share: Gauge;
  private readonly score: Gauge;
  private readonly drifted: Gauge;

  constructor(registry: Registry) {
    const column = ['model', 'version', 'feature', 'method'];
    this.share = gauge(
      registry,
      DATASET_DRIFT_SHARE,
      'Share of the features that drifted in the last window',
      ['model', 'version'],
    );
    this.score = gauge(registry, FEATURE_DRIFT_SCORE, 'Drift score of a column in the last window', column);
    this.drifted = gauge(registry, FEATURE_DRIFTED, '1 when the feature drifted in the last window', column);
  }

  /** Sets the series of the outcome; a window with too few rows removes the version's share. */
  set(o: WindowOutcome): void {
    const base = { model: o.model, version: String(o.version) };
    if (o.driftShare === null) this.share.remove(base);
    else this.share.set(base, o.driftShare);
    for (const c of o.columns) {
      const labels = { ...base, feature: c.column, method: c.drift.method };
      this.score.set(labels, c.drift.score);
      if (c.role === 'feature') this.drifted.set(labels, c.drift.drifted ? 1 : 0);
    }
  }
}

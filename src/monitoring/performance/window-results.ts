/**
 * Where a window's performance goes: rows appended to the offline table `performance_results` (one
 * per metric, or one per window when it had too few labels, beside the window's `drift_results`
 * rows and keyed like them), the gauges of ../metric-names.ts, and the drop samples the alert
 * evaluator watches (MeridianPerformanceDrop).
 */
import { Gauge, type Registry } from 'prom-client';
import type { OfflineRow, OfflineSchema, OfflineStore } from '../../stores/offline/port.js';
import type { MetricSample } from '../alerts/evaluator.js';
import { MODEL_LABELLED_SHARE, PERFORMANCE_DROP } from '../metric-names.js';
import { BETTER_DIRECTION } from './drop.js';
import type { WindowPerformance } from './window-performance.js';

export const PERFORMANCE_RESULTS_TABLE = 'performance_results';

export const PERFORMANCE_RESULTS_SCHEMA: OfflineSchema = {
  model: 'string',
  version: 'int64',
  window_start: 'timestamp',
  window_end: 'timestamp',
  /** evaluated or insufficient_labels. */
  status: 'string',
  /** binary, multiclass or regression; null on an insufficient_labels row. */
  task: 'string',
  /** accuracy, precision, recall, f1, rocAuc, mae or rmse; null on an insufficient_labels row. */
  metric: 'string',
  value: 'float64',
  /** The version's training value of the metric, when it has one. */
  training: 'float64',
  /** Share worse than training (PERFORMANCE_DROP), when there is a training value. */
  drop: 'float64',
  predictions: 'int64',
  labelled: 'int64',
  computed_at: 'timestamp',
};

/** One window's performance, as stored and exported. */
export interface PerformanceOutcome {
  model: string;
  version: number;
  from: Date;
  to: Date;
  performance: WindowPerformance;
  computedAt: number;
}

/** The offline rows of a window's performance. */
export function performanceRows(o: PerformanceOutcome): OfflineRow[] {
  const p = o.performance;
  const common = {
    model: o.model,
    version: o.version,
    window_start: o.from,
    window_end: o.to,
    status: p.status,
    task: p.task,
    predictions: p.predictions,
    labelled: p.labelled,
    computed_at: o.computedAt,
  };
  const metrics = Object.entries(p.metrics).filter(([, v]) => typeof v === 'number');
  if (p.status !== 'evaluated' || metrics.length === 0) return [{ ...common, metric: null }];
  return metrics.map(([metric, value]) => ({
    ...common,
    metric,
    value,
    training: p.training[metric] ?? null,
    drop: p.drop[metric] ?? null,
  }));
}

/** Appends the window's performance to `performance_results` (creating the table on first use). */
export async function storePerformance(offline: OfflineStore, o: PerformanceOutcome): Promise<void> {
  await offline.ensureTable(PERFORMANCE_RESULTS_TABLE, PERFORMANCE_RESULTS_SCHEMA);
  await offline.append(PERFORMANCE_RESULTS_TABLE, performanceRows(o));
}

/** The alert evaluator's samples of a window's performance: each metric's drop. */
export function performanceSamples(o: PerformanceOutcome): MetricSample[] {
  const base = { model: o.model, version: String(o.version) };
  return Object.entries(o.performance.drop).map(([metric, value]) => ({
    metric: PERFORMANCE_DROP,
    labels: { ...base, metric },
    value,
    time: o.computedAt,
  }));
}

function gauge(registry: Registry, name: string, help: string, labels: string[]): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name, help, labelNames: labels, registers: [registry] });
}

/** The performance gauges of one registry. */
export class PerformanceGauges {
  private readonly drop: Gauge;
  private readonly share: Gauge;

  constructor(registry: Registry) {
    this.drop = gauge(
      registry,
      PERFORMANCE_DROP,
      'Share by which the last window is worse than the training metric',
      ['model', 'version', 'metric'],
    );
    this.share = gauge(
      registry,
      MODEL_LABELLED_SHARE,
      'Labelled share of the predictions of the last window',
      ['model', 'version'],
    );
  }

  /** Sets the version's series; a metric without a drop this window (too few labels) is removed. */
  set(o: PerformanceOutcome): void {
    const base = { model: o.model, version: String(o.version) };
    const p = o.performance;
    if (p.labelledShare === null) this.share.remove(base);
    else this.share.set(base, p.labelledShare);
    for (const metric of Object.keys(BETTER_DIRECTION)) {
      const drop = p.drop[metric];
      if (drop === undefined) this.drop.remove({ ...base, metric });
      else this.drop.set({ ...base, metric }, drop);
    }
  }
}

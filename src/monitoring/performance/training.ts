/**
 * A window's metrics next to the version's training metrics (`model_versions.metrics`, the JSON the
 * pusher sent): each metric the window has is looked up under its usual names, case-insensitively
 * (rocAuc: roc_auc, rocauc, auc; f1: f1, f1_score; ...), and the delta is window minus training.
 */
import { MeridianError } from '../../core/errors.js';
import type { SqlExecutor } from '../../stores/state/port.js';
import type { ClassificationMetrics, RegressionMetrics } from './metrics.js';

type MetricName = keyof ClassificationMetrics | keyof RegressionMetrics;

const ALIASES: Record<MetricName, readonly string[]> = {
  accuracy: ['accuracy', 'acc'],
  precision: ['precision'],
  recall: ['recall'],
  f1: ['f1', 'f1_score', 'f1score'],
  rocAuc: ['rocauc', 'roc_auc', 'auc', 'roc_auc_score'],
  mae: ['mae', 'mean_absolute_error'],
  rmse: ['rmse', 'root_mean_squared_error'],
};

/** The version's training metrics as stored; NOT_FOUND when the registry has no such version. */
export async function trainingMetrics(
  sql: SqlExecutor,
  model: string,
  version: number,
): Promise<Record<string, unknown> | null> {
  const found = await sql.query<{ metrics: unknown }>(
    'SELECT metrics FROM model_versions WHERE name = $1 AND version = $2',
    [model, version],
  );
  const row = found.rows[0];
  if (!row) {
    throw new MeridianError(
      'NOT_FOUND',
      `model "${model}" has no version ${version}; push it first, or list versions with GET /v1/models/${model}`,
      { model, version },
    );
  }
  const metrics = typeof row.metrics === 'string' ? JSON.parse(row.metrics) : row.metrics;
  return metrics && typeof metrics === 'object' && !Array.isArray(metrics)
    ? (metrics as Record<string, unknown>)
    : null;
}

export interface TrainingComparison {
  /** The training value of each window metric that has one. */
  training: Record<string, number>;
  /** Window minus training, for the same metrics. */
  delta: Record<string, number>;
}

/** The training values matching the window's metrics, and the differences. */
export function compareWithTraining(
  window: Partial<Record<MetricName, number | null>>,
  training: Record<string, unknown> | null,
): TrainingComparison {
  const result: TrainingComparison = { training: {}, delta: {} };
  if (!training) return result;
  const byName = new Map(Object.entries(training).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [name, value] of Object.entries(window) as [MetricName, number | null][]) {
    const aliases = ALIASES[name] ?? [];
    const trained = aliases
      .map((a) => byName.get(a))
      .find((v) => typeof v === 'number' && Number.isFinite(v));
    if (typeof trained !== 'number') continue;
    result.training[name] = trained;
    if (typeof value === 'number') result.delta[name] = value - trained;
  }
  return result;
}

/**
 * How much worse a window's metric is than the version's training metric, as a share of the training
 * value, in the direction that is worse for the metric: lower for accuracy, precision, recall, F1 and
 * ROC AUC, higher for MAE and RMSE. 0.1 is 10% worse; a negative drop is an improvement. A training
 * value of 0 gives no share (nothing to be a share of), so that metric has no drop.
 */
import type { ClassificationMetrics, RegressionMetrics } from './metrics.js';

export type PerformanceMetricName = keyof ClassificationMetrics | keyof RegressionMetrics;

/** +1 where higher is better, -1 where lower is better. */
export const BETTER_DIRECTION: Readonly<Record<PerformanceMetricName, 1 | -1>> = {
  accuracy: 1,
  precision: 1,
  recall: 1,
  f1: 1,
  rocAuc: 1,
  mae: -1,
  rmse: -1,
};

/** The drop of one metric: (training - window) / |training| where higher is better, the reverse else. */
export function metricDrop(metric: PerformanceMetricName, window: number, training: number): number | null {
  if (training === 0 || !Number.isFinite(window) || !Number.isFinite(training)) return null;
  return (BETTER_DIRECTION[metric] * (training - window)) / Math.abs(training);
}

/** The drop of every window metric that has a training value. */
export function performanceDrops(
  window: Partial<Record<PerformanceMetricName, number | null>>,
  training: Readonly<Record<string, number>>,
): Partial<Record<PerformanceMetricName, number>> {
  const drops: Partial<Record<PerformanceMetricName, number>> = {};
  for (const [name, value] of Object.entries(window) as [PerformanceMetricName, number | null][]) {
    const trained = training[name];
    if (typeof value !== 'number' || trained === undefined || !(name in BETTER_DIRECTION)) continue;
    const drop = metricDrop(name, value, trained);
    if (drop !== null) drops[name] = drop;
  }
  return drops;
}

/**
 * A drift window's performance: the version's metrics over the window's labelled predictions, their
 * drop against the training metrics (./drop.ts) and the label drift, computed by the window drift job
 * each run. A window with fewer labelled predictions than the minimum is `insufficient_labels`: its
 * labelled share is known, its metrics are not computed. The default of 30 is a floor, not a
 * guarantee: at 30 labels an accuracy near 0.5 is still uncertain by about ±0.18 (95%), so raise
 * `minLabels` where windows have the labels for it.
 */
import type { OfflineStore } from '../../stores/offline/port.js';
import type { SqlExecutor } from '../../stores/state/port.js';
import { performanceDrops } from './drop.js';
import { type LabelDriftResult, windowLabelDrift } from './label-drift.js';
import { type WindowMetrics, windowMetrics } from './metrics.js';
import { windowCells } from './query.js';
import { compareWithTraining, type TrainingComparison, trainingMetrics } from './training.js';

/** Labelled predictions a window needs before its performance is computed. */
export const DEFAULT_MIN_LABELLED_ROWS = 30;

export interface WindowPerformance extends WindowMetrics, TrainingComparison, LabelDriftResult {
  status: 'evaluated' | 'insufficient_labels';
  minLabels: number;
  /** Per metric with a training value: the share by which the window is worse (../metric-names.ts). */
  drop: Record<string, number>;
}

/** The version's performance over [from, to), or `insufficient_labels` with its labelled share. */
export async function windowPerformanceOf(
  deps: { offline: OfflineStore; state: SqlExecutor },
  model: string,
  version: number,
  window: { from: Date; to: Date },
  minLabels = DEFAULT_MIN_LABELLED_ROWS,
): Promise<WindowPerformance> {
  const measured = windowMetrics(await windowCells(deps.offline, model, version, window.from, window.to));
  if (measured.labelled < minLabels) {
    return {
      ...measured,
      status: 'insufficient_labels',
      minLabels,
      task: null,
      averaging: null,
      positiveLabel: null,
      classes: [],
      metrics: {},
      training: {},
      delta: {},
      drop: {},
      labelDrift: null,
      labelDriftSkipped: `${measured.labelled} labelled predictions in the window, fewer than ${minLabels}`,
    };
  }
  const comparison = compareWithTraining(measured.metrics, await trainingMetrics(deps.state, model, version));
  return {
    ...measured,
    status: 'evaluated',
    minLabels,
    ...comparison,
    drop: performanceDrops(measured.metrics, comparison.training),
    ...(await windowLabelDrift(deps, model, version, window.from, window.to)),
  };
}

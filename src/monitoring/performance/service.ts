/**
 * A model version's performance over a window of its prediction log: labelled share and metrics
 * (src/monitoring/performance/metrics.ts), compared with the version's training metrics, and
 * label drift against the version's baseline (src/monitoring/performance/label-drift.ts).
 */
import { invalidArgument } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { SqlExecutor } from '../../stores/state/port.js';
import { type LabelDriftResult, windowLabelDrift } from './label-drift.js';
import { type WindowMetrics, windowMetrics } from './metrics.js';
import { windowCells } from './query.js';
import { compareWithTraining, type TrainingComparison, trainingMetrics } from './training.js';

/** The window when `from` is not given: the day before `to`. */
export const DEFAULT_PERFORMANCE_WINDOW_MS = 24 * 3600 * 1000;

export interface PerformanceReport extends WindowMetrics, TrainingComparison, LabelDriftResult {
  model: string;
  version: number;
  /** ISO 8601; the window is [from, to). */
  from: string;
  to: string;
}

/** The window's performance; NOT_FOUND for an unknown version, INVALID_ARGUMENT for an empty window. */
export async function windowPerformance(
  deps: { offline: OfflineStore; state: SqlExecutor },
  model: string,
  version: number,
  from: Date,
  to: Date,
): Promise<PerformanceReport> {
  if (from.getTime() >= to.getTime()) {
    throw invalidArgument(
      'from',
      `${from.toISOString()} is not before to (${to.toISOString()})`,
      'send from < to',
    );
  }
  const training = await trainingMetrics(deps.state, model, version);
  const window = windowMetrics(await windowCells(deps.offline, model, version, from, to));
  return {
    model,
    version,
    from: from.toISOString(),
    to: to.toISOString(),
    ...window,
    ...compareWithTraining(window.metrics, training),
    ...(await windowLabelDrift(deps, model, version, from, to)),
  };
}

/**
 * The train pipeline's fit step in one call: split the rows by event time, fit on the earlier
 * rows, score the later ones. The holdout is returned too, so the production model can be scored
 * on exactly the same rows before deciding whether the new version is better.
 */
import { invalidArgument } from '../../core/errors.js';
import type { TrainingSet } from './dataset.js';
import { type BinaryMetrics, evaluate, type RegressionMetrics } from './evaluate.js';
import { type SplitAt, selectRows, splitByTime } from './time-split.js';
import { type TrainedModel, type TrainSpec, train } from './train.js';

export interface TrainResult {
  model: TrainedModel;
  cutoff: number;
  trainRows: number;
  holdout: TrainingSet;
  holdoutPredictions: Float64Array;
  metrics: BinaryMetrics | RegressionMetrics;
}

/** Splits `set` by `eventTime` (one per row), fits `spec` on the earlier rows and scores the holdout. */
export function trainAndEvaluate(
  set: TrainingSet,
  eventTime: ArrayLike<number>,
  spec: TrainSpec,
  at: SplitAt,
): TrainResult {
  if (eventTime.length !== set.rows) {
    throw invalidArgument('eventTime', `${eventTime.length} times for ${set.rows} rows`, 'pass one per row');
  }
  const split = splitByTime(eventTime, at);
  const model = train(selectRows(set, split.train), spec);
  const holdout = selectRows(set, split.holdout);
  const holdoutPredictions = model.predict(holdout.features, holdout.rows);
  return {
    model,
    cutoff: split.cutoff,
    trainRows: split.train.length,
    holdout,
    holdoutPredictions,
    metrics: evaluate(model.task, holdout.labels, holdoutPredictions),
  };
}

/** The built-in trainer of the train pipeline: data checks, time split, algorithms, metrics. */
export { checkTrainingSet, fromColumns, type TrainingSet } from './dataset.js';
export {
  type BinaryMetrics,
  evaluate,
  evaluateBinary,
  evaluateRegression,
  type RegressionMetrics,
} from './evaluate.js';
export type { BoostOptions } from './gbt/options.js';
export type { LogisticOptions } from './logistic.js';
export { type SplitAt, selectRows, splitByTime, type TimeSplit } from './time-split.js';
export { type TrainedModel, type TrainSpec, train } from './train.js';
export { type TrainResult, trainAndEvaluate } from './train-and-evaluate.js';

/**
 * The built-in trainer's one entry point: fits a logistic regression or boosted trees and answers
 * a model that predicts and writes itself as an XGBoost JSON model file, the format the serving
 * runtime loads for uploaded models too.
 */
import type { TrainingSet } from './dataset.js';
import { type BoostedModel, fitBoosted, predictBoosted } from './gbt/boost.js';
import type { BoostOptions } from './gbt/options.js';
import { fitLogistic, type LogisticModel, type LogisticOptions, predictLogistic } from './logistic.js';
import { boostedModelJson, logisticModelJson } from './xgboost-json.js';

export type TrainSpec =
  | { algorithm: 'logistic-regression'; options?: LogisticOptions }
  | { algorithm: 'gradient-boosted-trees'; options: BoostOptions };

/** A fitted model of either algorithm. */
export interface TrainedModel {
  algorithm: TrainSpec['algorithm'];
  task: 'binary' | 'regression';
  featureCount: number;
  /** Probabilities of class 1 (binary) or values (regression), as the served model answers them. */
  predict(values: Float64Array, rows: number): Float64Array;
  /** The XGBoost JSON model file. */
  modelJson(): string;
  fitted: LogisticModel | BoostedModel;
}

/** Fits the model `spec` describes; INVALID_ARGUMENT naming the field on bad data or options. */
export function train(set: TrainingSet, spec: TrainSpec): TrainedModel {
  if (spec.algorithm === 'logistic-regression') {
    const fitted = fitLogistic(set, spec.options);
    return {
      algorithm: spec.algorithm,
      task: 'binary',
      featureCount: fitted.featureCount,
      predict: (values, rows) => predictLogistic(fitted, values, rows),
      modelJson: () => logisticModelJson(fitted),
      fitted,
    };
  }
  const fitted = fitBoosted(set, spec.options);
  return {
    algorithm: spec.algorithm,
    task: fitted.objective === 'binary:logistic' ? 'binary' : 'regression',
    featureCount: fitted.featureCount,
    predict: (values, rows) => predictBoosted(fitted, values, rows),
    modelJson: () => boostedModelJson(fitted),
    fitted,
  };
}

import { describe, expect, it } from 'vitest';
import { evaluateBinary, evaluateRegression } from '../../src/pipelines/train/evaluate.js';
import { type BoostedModel, fitBoosted, predictBoosted } from '../../src/pipelines/train/gbt/boost.js';
import type { BoostOptions } from '../../src/pipelines/train/gbt/options.js';
import { readReference, readTrainerData, splitAsReference } from './train-fixtures.js';

const data = readTrainerData();
const reference = readReference();
const p = reference.gbt.params;
// The hyperparameters xgboost was trained with (tree_method=hist, base_score = training mean).
const SAME_AS_XGBOOST = {
  rounds: p.rounds,
  learningRate: p.eta,
  maxDepth: p.max_depth,
  minChildWeight: p.min_child_weight,
  lambda: p.lambda,
  maxBin: p.max_bin,
};

function holdoutPredictions(
  set: typeof data.classification,
  options: BoostOptions,
): { model: BoostedModel; labels: Float64Array; predictions: Float64Array } {
  const { train, holdout } = splitAsReference(data, set);
  const model = fitBoosted(train, options);
  return {
    model,
    labels: holdout.labels,
    predictions: predictBoosted(model, holdout.features, holdout.rows),
  };
}

// Same algorithm, different bins: XGBoost cuts at a weighted quantile sketch's approximate
// quantiles, this trainer at exact ones, so trees pick slightly different thresholds; with 1000
// holdout rows that moves AUC by a few thousandths and RMSE by a few percent either way.
describe('gradient-boosted trees against xgboost 1.7 hist on the same data', () => {
  it('classifies the holdout within 0.01 AUC and 0.02 log loss of xgboost (binary:logistic)', () => {
    const r = holdoutPredictions(data.classification, { objective: 'binary:logistic', ...SAME_AS_XGBOOST });
    const metrics = evaluateBinary(r.labels, r.predictions);
    expect(Math.abs(metrics.auc! - reference.gbt.classification.auc)).toBeLessThan(0.01);
    expect(Math.abs(metrics.logloss - reference.gbt.classification.logloss)).toBeLessThan(0.02);
  });

  it('regresses the holdout within 5% of xgboost RMSE and MAE (reg:squarederror)', () => {
    const r = holdoutPredictions(data.regression, { objective: 'reg:squarederror', ...SAME_AS_XGBOOST });
    const metrics = evaluateRegression(r.labels, r.predictions);
    expect(Math.abs(metrics.rmse / reference.gbt.regression.rmse - 1)).toBeLessThan(0.05);
    expect(Math.abs(metrics.mae / reference.gbt.regression.mae - 1)).toBeLessThan(0.05);
  });

  it('grows trees no deeper than maxDepth', () => {
    const { model } = holdoutPredictions(data.regression, {
      objective: 'reg:squarederror',
      rounds: 5,
      maxDepth: 3,
    });
    for (const tree of model.trees) expect(depth(tree.left, tree.right, 0)).toBeLessThanOrEqual(3);
  });
});

describe('gradient-boosted trees fitting', () => {
  const options: BoostOptions = { objective: 'binary:logistic', rounds: 20, subsample: 0.7 };

  it('is deterministic for a seed, and a different seed samples other rows', () => {
    const a = holdoutPredictions(data.classification, { ...options, seed: 1 });
    const b = holdoutPredictions(data.classification, { ...options, seed: 1 });
    const c = holdoutPredictions(data.classification, { ...options, seed: 2 });
    expect(Array.from(a.predictions)).toEqual(Array.from(b.predictions));
    expect(Array.from(a.predictions)).not.toEqual(Array.from(c.predictions));
  });

  it('learns where missing values (NaN) go from the rows that have them', () => {
    const rows = 400;
    const features = new Float64Array(rows * 2);
    const labels = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const missing = r % 4 === 0;
      features[2 * r] = missing ? Number.NaN : (r % 7) - 3;
      features[2 * r + 1] = r % 5;
      labels[r] = missing || features[2 * r]! > 2 ? 1 : 0;
    }
    const model = fitBoosted({ features, rows, featureCount: 2, labels }, { objective: 'binary:logistic' });
    const probe = Float64Array.of(Number.NaN, 1, -3, 1, 3, 1);
    const [missing, low, high] = predictBoosted(model, probe, 3);
    expect(missing).toBeGreaterThan(0.9);
    expect(low).toBeLessThan(0.1);
    expect(high).toBeGreaterThan(0.9);
  });
});

function depth(left: number[], right: number[], node: number): number {
  if (left[node] === -1) return 0;
  return 1 + Math.max(depth(left, right, left[node]!), depth(left, right, right[node]!));
}

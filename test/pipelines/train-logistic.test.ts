import { describe, expect, it } from 'vitest';
import { evaluateBinary } from '../../src/pipelines/train/evaluate.js';
import { fitLogistic, predictLogistic } from '../../src/pipelines/train/logistic.js';
import { readReference, readTrainerData, splitAsReference } from './train-fixtures.js';

const data = readTrainerData();
const reference = readReference();
const { train, holdout } = splitAsReference(data, data.classification);

// Both sides minimise the same strictly convex objective to a gradient of ~1e-10 per row, so the
// optimum agrees to far below any modelling tolerance: 1e-6 on the O(1) standardised weights.
const TOLERANCE = 1e-6;

describe.each(reference.logistic)('logistic regression with l2 = $l2 (scikit-learn C = 1/l2)', (ref) => {
  const model = fitLogistic(train, { l2: ref.l2 });

  it('converges with Newton steps', () => {
    expect(model.converged).toBe(true);
    expect(model.iterations).toBeLessThan(20);
  });

  it("equals scikit-learn's weights on standardised features", () => {
    model.coefStandardised.forEach((w, j) => {
      expect(Math.abs(w - ref.coefStandardised[j]!), `x${j}`).toBeLessThan(TOLERANCE);
    });
    expect(Math.abs(model.interceptStandardised - ref.interceptStandardised)).toBeLessThan(TOLERANCE);
  });

  it("folds the standardisation into raw-feature weights equal to scikit-learn's", () => {
    model.coef.forEach((w, j) => {
      expect(Math.abs(w - ref.coefRaw[j]!), `x${j}`).toBeLessThan(
        TOLERANCE * Math.max(1, Math.abs(ref.coefRaw[j]!)),
      );
    });
    expect(Math.abs(model.intercept - ref.interceptRaw)).toBeLessThan(
      TOLERANCE * Math.abs(ref.interceptRaw) + 1e-6,
    );
  });

  it('scores the holdout as scikit-learn does', () => {
    const metrics = evaluateBinary(holdout.labels, predictLogistic(model, holdout.features, holdout.rows));
    // Predictions are float32 (as served), scikit-learn's float64: AUC ranks barely move, log loss by ~1e-7.
    expect(Math.abs(metrics.auc! - ref.holdout.auc)).toBeLessThan(1e-4);
    expect(Math.abs(metrics.logloss - ref.holdout.logloss)).toBeLessThan(1e-5);
    expect(metrics.accuracy).toBeCloseTo(ref.holdout.accuracy, 2);
  });
});

describe('logistic regression fitting', () => {
  it('is deterministic: the same rows give the same weights bit for bit', () => {
    const a = fitLogistic(train, { l2: 1 });
    const b = fitLogistic(train, { l2: 1 });
    expect(Array.from(a.coef)).toEqual(Array.from(b.coef));
    expect(a.intercept).toBe(b.intercept);
  });

  it('shrinks the weights as l2 grows', () => {
    const norm = (l2: number) => fitLogistic(train, { l2 }).coefStandardised.reduce((s, w) => s + w * w, 0);
    expect(norm(1000)).toBeLessThan(norm(1));
  });
});

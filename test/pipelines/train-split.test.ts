import { describe, expect, it } from 'vitest';
import { evaluateBinary, evaluateRegression, rocAuc } from '../../src/pipelines/train/evaluate.js';
import { selectRows, splitByTime } from '../../src/pipelines/train/time-split.js';
import { trainAndEvaluate } from '../../src/pipelines/train/train-and-evaluate.js';
import { expectInvalid } from '../helpers/errors.js';
import { readReference, readTrainerData } from './train-fixtures.js';

const rejects = (run: () => unknown, field: string) => expectInvalid(new Promise((r) => r(run())), field);

describe('splitting rows by event time', () => {
  it('holds out the latest fraction of rows, as the reference split did', () => {
    const { eventTime } = readTrainerData();
    const reference = readReference().split;
    const split = splitByTime(eventTime, { holdoutFraction: reference.holdoutFraction });
    expect(split.cutoff).toBe(reference.cutoff);
    expect([split.train.length, split.holdout.length]).toEqual([reference.trainRows, reference.holdoutRows]);
    const latestTrain = Math.max(...Array.from(split.train, (r) => eventTime[r]!));
    expect(latestTrain).toBeLessThan(Math.min(...Array.from(split.holdout, (r) => eventTime[r]!)));
  });

  it('puts rows at the cutoff into the holdout and keeps the original row order', () => {
    const split = splitByTime([5, 1, 3, 4, 3], { cutoff: 3 });
    expect(Array.from(split.train)).toEqual([1]);
    expect(Array.from(split.holdout)).toEqual([0, 2, 3, 4]);
  });

  it('selects the rows of a split with their labels', () => {
    const set = {
      features: Float64Array.of(1, 2, 3, 4, 5, 6),
      rows: 3,
      featureCount: 2,
      labels: Float64Array.of(0, 1, 0),
    };
    const picked = selectRows(set, Int32Array.of(2, 0));
    expect(Array.from(picked.features)).toEqual([5, 6, 1, 2]);
    expect(Array.from(picked.labels)).toEqual([0, 0]);
    expect(picked.rows).toBe(2);
  });

  it('rejects a row without a time, a fraction outside (0, 1) and a cutoff leaving one side empty', async () => {
    await rejects(() => splitByTime([1, Number.NaN], { cutoff: 1 }), 'eventTime');
    await rejects(() => splitByTime([1, 2], { holdoutFraction: 1 }), 'holdoutFraction');
    await rejects(() => splitByTime([1, 2], { cutoff: 10 }), 'cutoff');
  });
});

describe('holdout metrics', () => {
  it('computes ROC AUC with tied scores at their average rank, as roc_auc_score does', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNull();
  });

  it('computes log loss with clipped probabilities, and accuracy at 0.5', () => {
    const m = evaluateBinary([1, 0, 1, 0], [0.9, 0.2, 0.4, 0]);
    const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(1 - 1e-15)) / 4;
    expect(m.logloss).toBeCloseTo(expected, 12);
    expect(m.accuracy).toBe(0.75);
  });

  it('computes RMSE and MAE', () => {
    expect(evaluateRegression([1, 2, 3], [1, 4, 2])).toEqual({ rows: 3, rmse: Math.sqrt(5 / 3), mae: 1 });
  });

  it('rejects predictions of another length', async () => {
    await rejects(() => evaluateRegression([1, 2], [1]), 'predictions');
  });
});

describe('training and evaluating on a time split', () => {
  it('fits on the earlier rows and scores the later ones, returning the holdout for comparison', () => {
    const data = readTrainerData();
    const result = trainAndEvaluate(
      data.regression,
      data.eventTime,
      { algorithm: 'gradient-boosted-trees', options: { objective: 'reg:squarederror', rounds: 30 } },
      { holdoutFraction: 0.2 },
    );
    const reference = readReference().split;
    expect([result.trainRows, result.holdout.rows, result.cutoff]).toEqual([
      reference.trainRows,
      reference.holdoutRows,
      reference.cutoff,
    ]);
    const rescored = evaluateRegression(
      result.holdout.labels,
      result.model.predict(result.holdout.features, result.holdout.rows),
    );
    expect(result.metrics).toEqual(rescored);
    expect(rescored.rmse).toBeLessThan(1.2);
  });

  it('rejects event times of another length than the rows', async () => {
    const data = readTrainerData();
    const spec = { algorithm: 'logistic-regression' } as const;
    await rejects(() => trainAndEvaluate(data.classification, [1, 2], spec, { cutoff: 2 }), 'eventTime');
  });
});

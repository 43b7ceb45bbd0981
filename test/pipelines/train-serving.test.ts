import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train } from '../../src/pipelines/train/train.js';
import { loadXgboostModel } from '../../src/serving/runtimes/xgboost.js';
import { readTrainerData, splitAsReference, TRAINER_FIXTURES } from './train-fixtures.js';

const data = readTrainerData();
const encode = (text: string) => new TextEncoder().encode(text);

/** Holdout rows, then the same rows with every third value missing (NaN). */
function probeRows(holdout: { features: Float64Array; rows: number }): {
  values: Float64Array;
  rows: number;
} {
  const withMissing = holdout.features.map((v, i) => (i % 3 === 0 ? Number.NaN : v));
  const values = new Float64Array(holdout.features.length * 2);
  values.set(holdout.features);
  values.set(withMissing, holdout.features.length);
  return { values, rows: holdout.rows * 2 };
}

/** The served model's output column: class 1's probability, or the regression value. */
function servedColumn(prediction: { probabilities?: ArrayLike<number>; predictions?: ArrayLike<number> }) {
  if (prediction.predictions) return Array.from(prediction.predictions);
  return Array.from(prediction.probabilities!).filter((_, i) => i % 2 === 1);
}

describe.each([
  { name: 'boosted trees, binary:logistic', set: data.classification, gbt: 'binary:logistic' as const },
  { name: 'boosted trees, reg:squarederror', set: data.regression, gbt: 'reg:squarederror' as const },
  { name: 'logistic regression (gblinear)', set: data.classification, gbt: null },
])('a trained $name served by the XGBoost runtime', ({ set, gbt }) => {
  const { train: rows, holdout } = splitAsReference(data, set);
  const trained = gbt
    ? train(rows, {
        algorithm: 'gradient-boosted-trees',
        options: { objective: gbt, rounds: 60, maxDepth: 5 },
      })
    : train(rows, { algorithm: 'logistic-regression', options: { l2: 1 } });

  it('predicts what the trainer predicts, to 1e-6, with and without missing values', async () => {
    const served = await loadXgboostModel(encode(trained.modelJson()));
    const probe = gbt ? probeRows(holdout) : { values: holdout.features, rows: holdout.rows };
    const expected = trained.predict(probe.values, probe.rows);
    const actual = servedColumn(await served.predict(probe));
    expect(actual).toHaveLength(probe.rows);
    const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('declares the task, the feature names and the class count', async () => {
    const served = await loadXgboostModel(encode(trained.modelJson()));
    expect(served.signature.featureNames).toEqual(set.featureNames);
    expect(served.signature.task).toBe(trained.task === 'binary' ? 'classification' : 'regression');
    if (trained.task === 'binary') expect(served.signature.classCount).toBe(2);
  });
});

describe("the runtime's gblinear support", () => {
  it("answers exactly xgboost 1.7's own predictions of a gblinear model", async () => {
    const served = await loadXgboostModel(readFileSync(resolve(TRAINER_FIXTURES, 'gblinear-model.json')));
    const fixture = JSON.parse(readFileSync(resolve(TRAINER_FIXTURES, 'gblinear-predictions.json'), 'utf8'));
    const inputs: number[][] = fixture.inputs;
    const prediction = await served.predict({
      rows: inputs.length,
      values: Float64Array.from(inputs.flat()),
    });
    expect(servedColumn(prediction)).toEqual(fixture.predictions);
  });
});

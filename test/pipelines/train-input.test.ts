import { describe, it } from 'vitest';
import { fromColumns, type TrainingSet } from '../../src/pipelines/train/dataset.js';
import { type TrainSpec, train } from '../../src/pipelines/train/train.js';
import { expectInvalid } from '../helpers/errors.js';

const LOGISTIC: TrainSpec = { algorithm: 'logistic-regression' };
const TREES: TrainSpec = {
  algorithm: 'gradient-boosted-trees',
  options: { objective: 'binary:logistic', rounds: 2 },
};

/** A small valid set: columns age and income, alternating 0/1 labels. */
type Columns = { age: Float64Array; income: Float64Array };

function sample(change: (columns: Columns, labels: Float64Array) => void = () => {}) {
  const age = Float64Array.from({ length: 20 }, (_, i) => 20 + i);
  const income = Float64Array.from({ length: 20 }, (_, i) => 1000 + ((i * 37) % 11));
  const labels = Float64Array.from({ length: 20 }, (_, i) => i % 2);
  const columns: Columns = { age, income };
  change(columns, labels);
  return fromColumns(columns, labels);
}

const rejects = (run: () => unknown, field: string) =>
  expectInvalid(new Promise((resolve) => resolve(run())), field);

describe('the trainer rejects bad input, naming the field', () => {
  it.each([LOGISTIC, TREES])('rejects a NaN label ($algorithm)', async (spec) => {
    await rejects(
      () =>
        train(
          sample((_, y) => (y[3] = Number.NaN)),
          spec,
        ),
      'labels',
    );
  });

  it.each([LOGISTIC, TREES])(
    'rejects labels other than 0 and 1 for a classifier ($algorithm)',
    async (spec) => {
      await rejects(
        () =>
          train(
            sample((_, y) => (y[5] = 2)),
            spec,
          ),
        'labels',
      );
    },
  );

  it('rejects labels of a single class for a classifier', async () => {
    await rejects(
      () =>
        train(
          sample((_, y) => y.fill(1)),
          LOGISTIC,
        ),
      'labels',
    );
  });

  it('rejects a column whose length differs from the labels', async () => {
    await rejects(() => sample((c) => (c.income = c.income.subarray(0, 19))), 'columns.income');
  });

  it('rejects a matrix whose size does not match rows * featureCount, and labels of another length', async () => {
    const set = sample();
    const short: TrainingSet = { ...set, features: set.features.subarray(1) };
    await rejects(() => train(short, TREES), 'features');
    await rejects(() => train({ ...set, labels: set.labels.subarray(1) }, TREES), 'labels');
  });

  it('rejects a constant column for logistic regression, which standardises it', async () => {
    await rejects(
      () =>
        train(
          sample((c) => c.income.fill(5)),
          LOGISTIC,
        ),
      'features.income',
    );
  });

  it('rejects a missing value for logistic regression, and an infinite one for either', async () => {
    await rejects(
      () =>
        train(
          sample((c) => (c.age[2] = Number.NaN)),
          LOGISTIC,
        ),
      'features.age',
    );
    await rejects(
      () =>
        train(
          sample((c) => (c.age[2] = Number.POSITIVE_INFINITY)),
          TREES,
        ),
      'features.age',
    );
  });

  it('rejects options out of range', async () => {
    await rejects(
      () => train(sample(), { algorithm: 'logistic-regression', options: { l2: 0 } }),
      'options.l2',
    );
    const trees = (options: object) =>
      train(sample(), {
        algorithm: 'gradient-boosted-trees',
        options: { objective: 'binary:logistic', ...options },
      });
    await rejects(() => trees({ maxDepth: 0 }), 'options.maxDepth');
    await rejects(() => trees({ learningRate: 0 }), 'options.learningRate');
    await rejects(() => trees({ subsample: 1.5 }), 'options.subsample');
    await rejects(() => trees({ baseScore: 1 }), 'options.baseScore');
    await rejects(() => trees({ objective: 'multi:softprob' }), 'options.objective');
  });
});

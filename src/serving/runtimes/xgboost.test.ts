import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../../../test/helpers/errors.js';
import { loadXgboostModel, type XgboostModel } from './xgboost.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/xgboost');

/** A fixture CSV as rows of numbers; an empty cell is NaN. */
function readCsv(path: string, header: boolean): number[][] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return lines.slice(header ? 1 : 0).map((l) => l.split(',').map((c) => (c === '' ? Number.NaN : Number(c))));
}

interface Fixture {
  model: XgboostModel;
  header: string[];
  rows: number;
  values: Float64Array;
  predictions: number[][];
  margins: number[][];
}

async function loadFixture(name: string): Promise<Fixture> {
  const dir = join(FIXTURES, name);
  const model = (await loadXgboostModel(readFileSync(join(dir, 'model.json')))) as XgboostModel;
  const inputs = readCsv(join(dir, 'inputs.csv'), true);
  return {
    model,
    header: readFileSync(join(dir, 'inputs.csv'), 'utf8').split('\n')[0]!.split(','),
    rows: inputs.length,
    values: Float64Array.from(inputs.flat()),
    predictions: readCsv(join(dir, 'predictions.csv'), false),
    margins: readCsv(join(dir, 'margins.csv'), false),
  };
}

/** Rows of a row-major array. */
function rowsOf(values: ArrayLike<number>, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, r) =>
    Array.from(values).slice(r * width, r * width + width),
  );
}

const CLASSIFIERS = [
  { name: 'binary', classes: 2 },
  { name: 'multiclass', classes: 3 },
  { name: 'categorical', classes: 2 },
  { name: 'bench', classes: 2 },
  { name: 'dart', classes: 2 },
];
const REGRESSORS = ['regression', 'poisson'];

describe('XGBoost JSON runtime against xgboost 1.7 predictions (bit for bit: both compute in float32)', () => {
  for (const { name, classes } of CLASSIFIERS) {
    it(`answers exactly xgboost's margins and probabilities for the ${name} fixture`, async () => {
      const f = await loadFixture(name);
      expect(f.model.signature).toMatchObject({
        task: 'classification',
        classCount: classes,
        outputDatatype: 'FP32',
      });
      expect(f.model.signature.featureNames).toEqual(f.header);
      expect(rowsOf(f.model.margins(f), classes === 2 ? 1 : classes)).toEqual(f.margins);
      const out = await f.model.predict(f);
      const probabilities = rowsOf(out.probabilities!, classes);
      const expected = classes === 2 ? f.predictions.map(([p]) => [Math.fround(1 - p!), p!]) : f.predictions;
      expect(probabilities).toEqual(expected);
      const argmax = expected.map((p) => p.indexOf(Math.max(...p)));
      expect(Array.from(out.label!)).toEqual(argmax);
      expect(out.predictions).toBeUndefined();
    });
  }

  for (const name of REGRESSORS) {
    it(`answers exactly xgboost's margins and predictions for the ${name} fixture`, async () => {
      const f = await loadFixture(name);
      expect(f.model.signature).toMatchObject({ task: 'regression', featureCount: f.header.length });
      expect(f.model.signature.classCount).toBeUndefined();
      expect(rowsOf(f.model.margins(f), 1)).toEqual(f.margins);
      const out = await f.model.predict(f);
      expect(rowsOf(out.predictions!, 1)).toEqual(f.predictions);
      expect(out.probabilities).toBeUndefined();
    });
  }

  it('predicts the same from FP32 input as from FP64 input, since xgboost rounds inputs to float32', async () => {
    const f = await loadFixture('binary');
    const fromDouble = await f.model.predict(f);
    const fromFloat = await f.model.predict({ rows: f.rows, values: Float32Array.from(f.values) });
    expect(fromFloat.probabilities).toEqual(fromDouble.probabilities);
  });

  it('answers each row alone exactly as within a batch', async () => {
    for (const name of ['binary', 'categorical']) {
      const f = await loadFixture(name);
      const width = f.header.length;
      const batch = f.model.margins(f);
      const alone = Array.from(
        { length: 13 },
        (_, r) => f.model.margins({ rows: 1, values: f.values.subarray(r * width, r * width + width) })[0],
      );
      expect(alone).toEqual(Array.from(batch.subarray(0, 13)));
    }
  });

  it('answers an empty batch with empty outputs', async () => {
    const f = await loadFixture('multiclass');
    const out = await f.model.predict({ rows: 0, values: new Float64Array(0) });
    expect(out.probabilities).toHaveLength(0);
    expect(out.label).toHaveLength(0);
  });
});

describe('XGBoost JSON runtime batch checks', () => {
  it('rejects a batch whose value count is not rows x features, naming input', async () => {
    const { model } = await loadFixture('regression');
    const err = await expectInvalid(model.predict({ rows: 2, values: new Float64Array(9) }), 'input');
    expect(err.message).toContain('[2, 5]');
    await expectInvalid(model.predict({ rows: 1, values: new Float64Array(6) }), 'input');
  });

  it('rejects a negative or fractional row count, naming input', async () => {
    const { model } = await loadFixture('regression');
    await expectInvalid(model.predict({ rows: -1, values: new Float64Array(0) }), 'input');
    await expectInvalid(model.predict({ rows: 0.5, values: new Float64Array(0) }), 'input');
  });
});

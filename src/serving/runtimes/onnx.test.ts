import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCode, expectInvalid } from '../../../test/helpers/errors.js';
import type { LoadedModel } from './model.js';
import { loadOnnxModel } from './onnx.js';
import { bytesField, concat, textField, varintField } from './onnx-wire.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/sklearn-onnx');

interface Fixture {
  model: Uint8Array;
  rows: number;
  inputs: Float64Array;
  expected: Float64Array;
  columns: string[];
}

function csv(path: string): { header: string[]; values: number[] } {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  return { header: header!.split(','), values: lines.flatMap((line) => line.split(',').map(Number)) };
}

function fixture(name: string): Fixture {
  const dir = join(FIXTURES, name);
  const inputs = csv(join(dir, 'inputs.csv'));
  const expected = csv(join(dir, 'predictions.csv'));
  return {
    model: readFileSync(join(dir, 'model.onnx')),
    rows: inputs.values.length / inputs.header.length,
    inputs: Float64Array.from(inputs.values),
    expected: Float64Array.from(expected.values),
    columns: expected.header,
  };
}

// onnxruntime computes in float32: 1e-5 relative. Probabilities normalised to sum to 1 in float32 also
// carry an absolute error of about two float32 ulps at 1.0 (2 x 1.19e-7), which dominates for tiny ones.
const RELATIVE = 1e-5;
const FLOAT32_ABSOLUTE = 2.4e-7;

function expectClose(actual: ArrayLike<number>, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = Math.max(RELATIVE * Math.abs(expected[i]!), FLOAT32_ABSOLUTE);
    if (Math.abs(actual[i]! - expected[i]!) > tolerance) {
      expect.fail(
        `value ${i}: got ${actual[i]}, scikit-learn answered ${expected[i]} (tolerance ${tolerance})`,
      );
    }
  }
}

/** sklearn's predicted class per row, skipping near-ties that float32 may legitimately break the other way. */
function expectLabels(labels: Int32Array, probabilities: Float64Array, classes: number): void {
  let compared = 0;
  for (let r = 0; r < labels.length; r++) {
    const row = Array.from(probabilities.subarray(r * classes, (r + 1) * classes));
    const sorted = [...row].sort((a, b) => b - a);
    if (sorted[0]! - sorted[1]! < 1e-5) continue;
    expect(labels[r], `row ${r}`).toBe(row.indexOf(sorted[0]!));
    compared++;
  }
  expect(compared).toBeGreaterThan(labels.length * 0.95);
}

const CLASSIFIERS = [
  { name: 'gradient-boosting-binary', features: 8, labels: [0, 1], how: 'TreeEnsembleClassifier + ZipMap' },
  {
    name: 'random-forest-multiclass',
    features: 6,
    labels: [0, 1, 2],
    how: 'TreeEnsembleClassifier + ZipMap',
  },
  {
    name: 'logistic-regression-zipmap',
    features: 5,
    labels: ['bronze', 'gold', 'silver'],
    how: 'LinearClassifier (SOFTMAX) + string ZipMap',
  },
  {
    name: 'logistic-regression-binary',
    features: 5,
    labels: [0, 1],
    how: 'LinearClassifier (LOGISTIC), no ZipMap',
  },
  { name: 'mlp-classifier', features: 7, labels: undefined, how: 'MatMul/Add/Relu/Softmax' },
] as const;

describe('loadOnnxModel on scikit-learn models', () => {
  for (const c of CLASSIFIERS) {
    it(`answers predict_proba of ${c.name} (${c.how}) within 1e-5 relative, float32`, async () => {
      const f = fixture(c.name);
      const model = await loadOnnxModel(f.model);
      const classes = f.columns.length;
      expect(model.format).toBe('onnx');
      expect(model.signature).toEqual({
        task: 'classification',
        featureCount: c.features,
        classCount: classes,
        outputDatatype: 'FP32',
        ...(c.labels ? { classLabels: [...c.labels] } : {}),
      });
      const out = await model.predict({ rows: f.rows, values: f.inputs });
      expectClose(out.probabilities!, f.expected);
      expectLabels(out.label!, f.expected, classes);
      expect(out.predictions).toBeUndefined();
      await model.close();
    });
  }

  it('answers predict of a GradientBoostingRegressor (TreeEnsembleRegressor) within 1e-5 relative, float32', async () => {
    const f = fixture('gradient-boosting-regression');
    const model = await loadOnnxModel(f.model);
    expect(model.signature).toEqual({ task: 'regression', featureCount: 10, outputDatatype: 'FP32' });
    const out = await model.predict({ rows: f.rows, values: f.inputs });
    expectClose(out.predictions!, f.expected);
    expect(out.probabilities).toBeUndefined();
    await model.close();
  });

  it('answers predict of a float64 MLPRegressor graph within 1e-6 relative, as onnxruntime computes it in double', async () => {
    const f = fixture('mlp-regressor-double');
    const model = await loadOnnxModel(f.model);
    expect(model.signature).toEqual({ task: 'regression', featureCount: 6, outputDatatype: 'FP64' });
    const out = await model.predict({ rows: f.rows, values: f.inputs });
    expect(out.predictions).toBeInstanceOf(Float64Array);
    for (let i = 0; i < f.rows; i++) {
      expect(Math.abs(out.predictions![i]! - f.expected[i]!)).toBeLessThanOrEqual(
        1e-6 * Math.abs(f.expected[i]!),
      );
    }
    await model.close();
  });

  it('answers concurrent batches each with its own rows', async () => {
    const f = fixture('gradient-boosting-binary');
    const model = await loadOnnxModel(f.model);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, r) =>
        model.predict({ rows: 1, values: f.inputs.subarray(r * 8, r * 8 + 8) }),
      ),
    );
    expectClose(
      answers.flatMap((a) => Array.from(a.probabilities!)),
      f.expected.subarray(0, 40),
    );
    await model.close();
  });

  it('answers an FP32 batch exactly as the same batch in FP64', async () => {
    const f = fixture('random-forest-multiclass');
    const model = await loadOnnxModel(f.model);
    const wide = await model.predict({ rows: f.rows, values: f.inputs });
    const narrow = await model.predict({ rows: f.rows, values: Float32Array.from(f.inputs) });
    expect(Array.from(narrow.probabilities!)).toEqual(Array.from(wide.probabilities!));
    await model.close();
  });

  it('answers a batch of zero rows with empty arrays', async () => {
    const model = await loadOnnxModel(fixture('gradient-boosting-binary').model);
    const out = await model.predict({ rows: 0, values: new Float64Array(0) });
    expect(out.probabilities!.length).toBe(0);
    expect(out.label!.length).toBe(0);
    await model.close();
  });
});

describe('loadOnnxModel on bad files', () => {
  const model = () => fixture('logistic-regression-binary').model;

  it('rejects an empty file, naming the file', async () => {
    const err = await expectInvalid(loadOnnxModel(new Uint8Array(0)), 'file');
    expect(err.message).toContain('empty');
  });

  it('rejects a file that is not protobuf, saying an ONNX model was expected', async () => {
    const err = await expectInvalid(loadOnnxModel(new TextEncoder().encode('{"learner": {}}')), 'file');
    expect(err.message).toContain('not a loadable ONNX model');
  });

  it('rejects a truncated ONNX file', async () => {
    const bytes = model();
    await expectInvalid(loadOnnxModel(bytes.subarray(0, Math.floor(bytes.length / 2))), 'file');
  });

  it('rejects seeded random bytes', async () => {
    let seed = 7;
    const bytes = Uint8Array.from({ length: 4096 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed & 0xff;
    });
    await expectInvalid(loadOnnxModel(bytes), 'file');
  });

  it('rejects a well-formed protobuf that onnxruntime cannot load as a model', async () => {
    const bogusNode = bytesField(1, textField(4, 'NoSuchOperator'));
    const bytes = concat([varintField(1, 8), bytesField(7, bogusNode)]);
    const err = await expectInvalid(loadOnnxModel(bytes), 'file');
    expect(err.message).toContain('onnxruntime rejected it');
  });

  for (const name of ['image-input', 'two-inputs', 'int-input']) {
    it(`rejects a valid but non-tabular ONNX model (${name}), saying what it expected and found`, async () => {
      const bytes = readFileSync(join(FIXTURES, 'not-tabular', `${name}.onnx`));
      const err = await expectInvalid(loadOnnxModel(bytes), 'file');
      expect(err.message).toContain('expected one float tensor input [N, F]');
      expect(err.message).toMatch(
        /found inputs .*(image: float32 \[N, 3, 8, 8\]|a: float32.*b: float32|ids: int64)/,
      );
    });
  }
});

describe('OnnxModel.predict and close', () => {
  async function loaded(): Promise<LoadedModel> {
    return loadOnnxModel(fixture('mlp-classifier').model);
  }

  it('rejects a batch whose value count is not rows x features, naming input', async () => {
    const model = await loaded();
    const err = await expectInvalid(model.predict({ rows: 2, values: new Float64Array(13) }), 'input');
    expect(err.message).toContain('expected 2 rows x 7 features = 14 values, got 13');
    await model.close();
  });

  it('rejects a negative or fractional row count, naming input', async () => {
    const model = await loaded();
    await expectInvalid(model.predict({ rows: -1, values: new Float64Array(0) }), 'input');
    await expectInvalid(model.predict({ rows: 1.5, values: new Float64Array(7) }), 'input');
    await model.close();
  });

  it('rejects a batch of another size when the graph fixes the batch size, naming input', async () => {
    const model = await loadOnnxModel(readFileSync(join(FIXTURES, 'edge', 'fixed-batch.onnx')));
    expect(model.signature).toEqual({ task: 'regression', featureCount: 3, outputDatatype: 'FP32' });
    const out = await model.predict({ rows: 2, values: Float64Array.from([1, 0, 0, 1, 1, 1]) });
    expect(Array.from(out.predictions!)).toEqual([1, 6]);
    const err = await expectInvalid(
      model.predict({ rows: 1, values: Float64Array.from([1, 2, 3]) }),
      'input',
    );
    expect(err.message).toContain('exactly 2 rows');
    await model.close();
  });

  it('refuses to predict after close, and closing twice is harmless', async () => {
    const model = await loaded();
    await model.close();
    await model.close();
    await expectCode(model.predict({ rows: 1, values: new Float64Array(7) }), 'UNAVAILABLE');
  });

  it('lets an inference already running finish before releasing the session', async () => {
    const f = fixture('mlp-classifier');
    const model = await loadOnnxModel(f.model);
    const running = model.predict({ rows: f.rows, values: f.inputs });
    await model.close();
    expectClose((await running).probabilities!, f.expected);
  });
});

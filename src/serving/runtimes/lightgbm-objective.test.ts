import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../../../test/helpers/errors.js';
import { type LightgbmModel, loadLightgbmModel } from './lightgbm.js';

/** A model of constant single-leaf trees: tree i answers `values[i]`, whatever the input. */
function constantModel(
  objective: string | null,
  values: number[],
  numClass = 1,
  extra: string[] = [],
): Uint8Array {
  const trees = values.flatMap((value, i) => [
    `Tree=${i}`,
    'num_leaves=1',
    'num_cat=0',
    'split_feature=',
    'threshold=',
    'decision_type=',
    'left_child=',
    'right_child=',
    `leaf_value=${value}`,
    '',
  ]);
  const header = [
    'tree',
    'version=v4',
    `num_class=${numClass}`,
    `num_tree_per_iteration=${numClass}`,
    'max_feature_idx=1',
    ...(objective === null ? [] : [`objective=${objective}`]),
    ...extra,
    '',
  ];
  return new TextEncoder().encode([...header, ...trees, 'end of trees', ''].join('\n'));
}

async function answer(bytes: Uint8Array) {
  const model = (await loadLightgbmModel(bytes)) as LightgbmModel;
  const batch = { rows: 1, values: Float64Array.of(0, 0) };
  return { model, raw: Array.from(model.rawScores(batch)), out: await model.predict(batch) };
}

describe('LightGBM objectives', () => {
  it('answers binary models as [1 - p, p] with p the sigmoid of sigmoid * raw', async () => {
    const scaled = await answer(constantModel('binary sigmoid:2', [0.3, 0.1]));
    const plain = await answer(constantModel('binary sigmoid:1', [0.8]));
    const p = scaled.out.probabilities!;
    expect(p[1]).toBe(plain.out.probabilities![1]);
    expect(p[0]).toBe(1 - p[1]!);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-0.8)), 15);
    expect(scaled.model.signature).toMatchObject({ task: 'classification', classCount: 2, featureCount: 2 });
    expect(Array.from(scaled.out.label!)).toEqual([1]);
  });

  it('normalises multiclass scores with softmax and labels the most probable class', async () => {
    const { out, model } = await answer(constantModel('multiclass num_class:3', [1, 3, 2, 0.5, 0, 0], 3));
    const p = Array.from(out.probabilities!);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 15);
    expect(p[1]).toBeCloseTo(Math.exp(3) / (Math.exp(1.5) + Math.exp(3) + Math.exp(2)), 15);
    expect(Array.from(out.label!)).toEqual([1]);
    expect(model.signature.classCount).toBe(3);
  });

  it('answers one-vs-all models with an unnormalised sigmoid per class', async () => {
    const { out } = await answer(constantModel('multiclassova num_class:2 sigmoid:1', [2, 2], 2));
    expect(Array.from(out.probabilities!)).toEqual([out.probabilities![0], out.probabilities![0]]);
    expect(out.probabilities![0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
  });

  it('answers log-link regressions with exp(raw) and sqrt-trained ones with sign(raw) * raw^2', async () => {
    for (const name of ['poisson', 'gamma', 'tweedie']) {
      const { out, model } = await answer(constantModel(name, [0.5, 0.25]));
      expect(out.predictions![0]).toBeCloseTo(Math.exp(0.75), 14);
      expect(model.signature).toMatchObject({ task: 'regression', outputDatatype: 'FP64' });
      expect(model.signature.classCount).toBeUndefined();
    }
    expect((await answer(constantModel('regression sqrt', [-1.5]))).out.predictions![0]).toBe(-2.25);
    expect((await answer(constantModel('huber', [-1.5]))).out.predictions![0]).toBe(-1.5);
  });

  it('answers raw scores for a single-output model saved without an objective (custom objective)', async () => {
    expect((await answer(constantModel(null, [0.25, 0.5]))).out.predictions![0]).toBe(0.75);
  });

  it('averages over iterations instead of summing for random-forest models (average_output)', async () => {
    const { raw } = await answer(constantModel('regression', [1, 2, 6], 1, ['average_output']));
    expect(raw).toEqual([3]);
  });

  it('rejects objectives it cannot reproduce, naming them', async () => {
    const err = await expectInvalid(loadLightgbmModel(constantModel('cross_entropy_lambda', [0.1])), 'file');
    expect(err.message).toContain('cross_entropy_lambda');
  });

  it('rejects an objective that disagrees with num_class', async () => {
    await expectInvalid(loadLightgbmModel(constantModel('multiclass num_class:3', [0, 0], 2)), 'file');
    await expectInvalid(loadLightgbmModel(constantModel('binary sigmoid:1', [0, 0], 2)), 'file');
    await expectInvalid(loadLightgbmModel(constantModel('binary sigmoid:-1', [0])), 'file');
  });
});

import { describe, expect, it } from 'vitest';
import { expectInvalid } from '../../../test/helpers/errors.js';
import { loadLightgbmModel } from './lightgbm.js';
import { parseLightgbmModel } from './lightgbm-format.js';

const HEADER = {
  version: 'v4',
  num_class: '1',
  num_tree_per_iteration: '1',
  max_feature_idx: '2',
  objective: 'binary sigmoid:1',
  feature_names: 'a b c',
  feature_infos: '[0:1] [0:1] -1:0:1:2',
};

const TREE = {
  num_leaves: '3',
  num_cat: '1',
  split_feature: '0 2',
  threshold: '0.5 0',
  decision_type: '2 1',
  left_child: '1 -1',
  right_child: '-2 -3',
  leaf_value: '0.1 -0.2 0.3',
  cat_boundaries: '0 1',
  cat_threshold: '5',
  is_linear: '0',
  shrinkage: '1',
};

/** A small valid binary model (one numerical and one categorical split), with lines replaced or removed. */
function modelText(
  header: Partial<Record<string, string | null>> = {},
  tree: Partial<Record<string, string | null>> = {},
): string {
  const lines = (fields: Record<string, string | null>) =>
    Object.entries(fields)
      .filter(([, value]) => value !== null)
      .map(([key, value]) => `${key}=${value}`);
  return [
    'tree',
    ...lines({ ...HEADER, ...header }),
    '',
    'Tree=0',
    ...lines({ ...TREE, ...tree }),
    '',
    'end of trees',
    '',
  ].join('\n');
}

async function rejectedWith(text: string | Uint8Array, ...fragments: string[]): Promise<void> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const err = await expectInvalid(loadLightgbmModel(bytes), 'file');
  expect(err.message).toContain('LightGBM');
  for (const fragment of fragments) expect(err.message).toContain(fragment);
}

describe('LightGBM text format', () => {
  it('parses the header, objective parameters and every tree array', () => {
    const model = parseLightgbmModel(modelText());
    expect(model).toMatchObject({
      version: 'v4',
      numClass: 1,
      featureCount: 3,
      featureNames: ['a', 'b', 'c'],
      objective: { name: 'binary', params: { sigmoid: '1' }, flags: [] },
      averageOutput: false,
    });
    const tree = model.trees[0]!;
    expect(Array.from(tree.leftChild)).toEqual([1, -1]);
    expect(Array.from(tree.catThreshold)).toEqual([5]);
    expect(Array.from(tree.leafValue)).toEqual([0.1, -0.2, 0.3]);
  });

  it('parses the text CRLF-terminated as well', () => {
    expect(parseLightgbmModel(modelText().replaceAll('\n', '\r\n')).trees).toHaveLength(1);
  });

  it('rejects an empty file, random bytes and an XGBoost JSON model, saying what it expected', async () => {
    await rejectedWith('', 'empty');
    await rejectedWith(
      Uint8Array.from({ length: 256 }, (_, i) => (i * 167 + 13) & 0xff),
      'UTF-8',
    );
    await rejectedWith(
      '{"learner": {"gradient_booster": {"name": "gbtree"}}, "version": [1, 7, 4]}',
      'tree',
      'XGBoost',
    );
  });

  it('rejects a file cut off before `end of trees`', async () => {
    const text = modelText();
    await rejectedWith(text.slice(0, text.indexOf('leaf_value')), 'truncated');
  });

  it('rejects a tree whose arrays disagree with num_leaves', async () => {
    await rejectedWith(modelText({}, { leaf_value: '0.1 0.2' }), 'Tree=0', 'leaf_value', 'expected 3');
    await rejectedWith(modelText({}, { threshold: '0.5' }), 'threshold', 'expected 2');
    await rejectedWith(modelText({}, { right_child: null }), 'right_child');
  });

  it('rejects children, features and bitsets that point outside the tree', async () => {
    await rejectedWith(modelText({}, { left_child: '0 -1' }), 'node 0 has child 0');
    await rejectedWith(modelText({}, { right_child: '-2 -4' }), 'child -4');
    await rejectedWith(modelText({}, { split_feature: '0 3' }), 'feature 3');
    await rejectedWith(modelText({}, { threshold: '0.5 1' }), 'bitset 1');
    await rejectedWith(modelText({}, { cat_boundaries: '0 2' }), 'cat_boundaries');
  });

  it('rejects unparsable numbers and decision types LightGBM never writes', async () => {
    await rejectedWith(modelText({}, { leaf_value: '0.1 x 0.3' }), '`x`');
    await rejectedWith(modelText({}, { leaf_value: '0.1 inf 0.3' }), '`inf`');
    await rejectedWith(modelText({}, { decision_type: '14 1' }), 'decision_type=14');
  });

  it('rejects a header that disagrees with itself or with the trees', async () => {
    await rejectedWith(modelText({ version: 'v9' }), 'version');
    await rejectedWith(modelText({ feature_names: 'a b' }), 'feature_names');
    await rejectedWith(modelText({ num_tree_per_iteration: '2' }), 'num_tree_per_iteration');
    await rejectedWith(modelText({ tree_sizes: '10 20' }), 'tree_sizes');
    await rejectedWith(modelText().replace('Tree=0', 'Tree=1'), 'Tree=0');
  });

  it('rejects linear trees with a clear error', async () => {
    await rejectedWith(modelText({}, { is_linear: '1' }), 'linear');
  });
});

import { describe, expect, it } from 'vitest';
import { parseLightgbmModel } from './lightgbm-format.js';
import { compileForest, predictRaw } from './lightgbm-trees.js';

/** A one-split regression model on one feature: left leaf answers -1, right leaf +1. */
function stump(decisionType: number, threshold: number | string, categories = ''): string {
  const cat = categories
    ? ['num_cat=1', `cat_boundaries=0 ${categories.split(' ').length}`, `cat_threshold=${categories}`]
    : ['num_cat=0'];
  return [
    'tree',
    'version=v4',
    'num_class=1',
    'num_tree_per_iteration=1',
    'max_feature_idx=0',
    'objective=regression',
    'feature_names=x',
    '',
    'Tree=0',
    'num_leaves=2',
    ...cat,
    'split_feature=0',
    `threshold=${threshold}`,
    `decision_type=${decisionType}`,
    'left_child=-1',
    'right_child=-2',
    'leaf_value=-1 1',
    'is_linear=0',
    'shrinkage=1',
    '',
    'end of trees',
  ].join('\n');
}

/** Which way each value goes: 'L' or 'R'. */
function route(model: string, values: number[]): string {
  const forest = compileForest(parseLightgbmModel(model).trees);
  const raw = predictRaw(forest, Float64Array.from(values), values.length, 1, 1);
  return Array.from(raw, (v) => (v < 0 ? 'L' : 'R')).join('');
}

describe('LightGBM numerical splits', () => {
  it('sends a value equal to the threshold left and a larger one right', () => {
    expect(route(stump(0, 0.5), [0.5, 0.5000000000000001, -3])).toBe('LRL');
  });

  it('sends NaN the default way when the missing type is NaN (decision_type 8 right, 10 left)', () => {
    expect(route(stump(8, -5), [Number.NaN, -6, 0])).toBe('RLR');
    expect(route(stump(10, 5), [Number.NaN, -6, 6])).toBe('LLR');
  });

  it('treats NaN as 0 when the missing type is None, ignoring the default direction', () => {
    expect(route(stump(2, -0.5), [Number.NaN])).toBe('R');
    expect(route(stump(0, 0.5), [Number.NaN])).toBe('L');
  });

  it('sends zero, values within kZeroThreshold and NaN the default way when the missing type is Zero', () => {
    expect(route(stump(6, -1), [0, 1e-36, -1e-36, Number.NaN, 1e-30, -2])).toBe('LLLLRL');
    expect(route(stump(4, 1), [0, Number.NaN, 1e-30, 2])).toBe('RRLR');
  });

  it('compares infinities and an infinite threshold as doubles', () => {
    expect(route(stump(8, 'inf'), [1e300, Number.POSITIVE_INFINITY, Number.NaN])).toBe('LLR');
  });
});

describe('LightGBM categorical splits', () => {
  // Bitset words 5 (categories 0 and 2) and 2 (category 33) go left.
  const model = stump(1, 0, '5 2');

  it('sends categories in the bitset left and the others right', () => {
    expect(route(model, [0, 1, 2, 3, 32, 33, 34])).toBe('LRLRRLR');
  });

  it('truncates a fractional category toward zero, as static_cast<int> does', () => {
    expect(route(model, [2.9, 1.9, 33.5, -0.5])).toBe('LRLL');
  });

  it('sends NaN, negative categories, categories past the bitset and out-of-int values right', () => {
    expect(route(model, [Number.NaN, -1, -7, 64, 1e6, 2 ** 31, Number.POSITIVE_INFINITY])).toBe('RRRRRRR');
  });
});

describe('LightGBM forests', () => {
  it('sums class k over trees k, k + C, ... starting from zero', () => {
    const tree = (i: number, value: string) => [
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
    ];
    const text = [
      'tree',
      'version=v4',
      'num_class=2',
      'num_tree_per_iteration=2',
      'max_feature_idx=0',
      'objective=multiclass num_class:2',
      '',
      ...tree(0, '1'),
      ...tree(1, '10'),
      ...tree(2, '0.5'),
      ...tree(3, '20'),
      'end of trees',
    ].join('\n');
    const forest = compileForest(parseLightgbmModel(text).trees);
    expect(Array.from(predictRaw(forest, Float64Array.of(0, 0), 2, 1, 2))).toEqual([1.5, 30, 1.5, 30]);
  });
});

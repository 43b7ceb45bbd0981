import { describe, expect, it } from 'vitest';
import { xgboostModelFromJson } from './xgboost.js';

interface Split {
  feature: number;
  threshold?: number;
  defaultLeft: boolean;
  /** Categories sent right; makes the split categorical. */
  categories?: number[];
}

/**
 * A one-split regression model as XGBoost writes it: node 0 splits, leaf 1 (left) answers 1 and
 * leaf 2 (right) answers 2, base_score 0, so each prediction names the branch a row took.
 */
function oneSplitModel(split: Split, featureCount = 2): unknown {
  const categorical = split.categories !== undefined;
  return {
    version: [1, 7, 4],
    learner: {
      learner_model_param: { base_score: '0E0', num_class: '0', num_feature: String(featureCount) },
      objective: { name: 'reg:squarederror' },
      feature_names: [],
      gradient_booster: {
        name: 'gbtree',
        model: {
          tree_info: [0],
          trees: [
            {
              left_children: [1, -1, -1],
              right_children: [2, -1, -1],
              split_indices: [split.feature, 0, 0],
              split_conditions: [categorical ? null : split.threshold!, 1, 2],
              default_left: [split.defaultLeft ? 1 : 0, 0, 0],
              split_type: [categorical ? 1 : 0, 0, 0],
              categories: split.categories ?? [],
              categories_nodes: categorical ? [0] : [],
              categories_segments: categorical ? [0] : [],
              categories_sizes: categorical ? [split.categories!.length] : [],
            },
          ],
        },
      },
    },
  };
}

/** The leaf (1 = left, 2 = right) each single-feature row reaches, with the split on feature 0. */
async function branches(split: Split, xs: number[]): Promise<number[]> {
  const model = xgboostModelFromJson(oneSplitModel({ ...split, feature: 0 }, 1));
  const out = await model.predict({ rows: xs.length, values: Float64Array.from(xs) });
  return Array.from(out.predictions!);
}

describe('XGBoost tree routing', () => {
  it('sends x < threshold left and x >= threshold right', async () => {
    expect(
      await branches({ feature: 0, threshold: 0.5, defaultLeft: false }, [0.25, 0.5, 0.75, -1e30]),
    ).toEqual([1, 2, 2, 1]);
  });

  it('compares in float32: a double just below a float32 threshold rounds onto it and goes right', async () => {
    const threshold = Math.fround(0.1);
    const below = threshold - 2 ** -40;
    expect(below).toBeLessThan(threshold);
    expect(await branches({ feature: 0, threshold, defaultLeft: true }, [below, threshold, 0.09])).toEqual([
      2, 2, 1,
    ]);
  });

  it('sends a missing value (NaN) down the default branch, either side', async () => {
    expect(await branches({ feature: 0, threshold: 0.5, defaultLeft: true }, [Number.NaN, 0.9])).toEqual([
      1, 2,
    ]);
    expect(await branches({ feature: 0, threshold: 0.5, defaultLeft: false }, [Number.NaN, 0.1])).toEqual([
      2, 1,
    ]);
  });

  it('routes on the split feature only, ignoring NaN in other columns', async () => {
    const model = xgboostModelFromJson(oneSplitModel({ feature: 1, threshold: 0, defaultLeft: true }));
    const out = await model.predict({ rows: 2, values: Float64Array.from([Number.NaN, 1, Number.NaN, -1]) });
    expect(Array.from(out.predictions!)).toEqual([2, 1]);
  });

  it('sends a category in the split set right and any other category left', async () => {
    const split = { feature: 0, defaultLeft: false, categories: [1, 3, 40] };
    expect(await branches(split, [0, 1, 2, 3, 39, 40, 41])).toEqual([1, 2, 1, 2, 1, 2, 1]);
  });

  it('truncates a fractional category to an integer, as XGBoost casts it', async () => {
    const split = { feature: 0, defaultLeft: false, categories: [3] };
    expect(await branches(split, [3.9, 2.9, 3])).toEqual([2, 1, 2]);
  });

  it('sends categories beyond the split bitset, negative or beyond 2^24 left, not to the default', async () => {
    const split = { feature: 0, defaultLeft: false, categories: [1, 33] };
    expect(await branches(split, [64, 1000, -1, -0.5, 2 ** 24, 2 ** 24 + 2])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('sends a missing category down the default branch', async () => {
    expect(await branches({ feature: 0, defaultLeft: false, categories: [0] }, [Number.NaN])).toEqual([2]);
    expect(await branches({ feature: 0, defaultLeft: true, categories: [0] }, [Number.NaN])).toEqual([1]);
  });
});

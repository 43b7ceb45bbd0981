/**
 * Writes trained models as XGBoost 1.7 JSON model files (what `Booster.save_model("m.json")`
 * writes): boosted trees as a gbtree booster, logistic regression as a gblinear booster. The serving
 * runtime loads them like any uploaded XGBoost model, and so does xgboost itself.
 */

import { f32Json } from './float32.js';
import type { BoostedModel } from './gbt/boost.js';
import type { Tree } from './gbt/tree.js';
import type { LogisticModel } from './logistic.js';

const VERSION = [1, 7, 4];
/** XGBoost's parent of the root: the largest int32. */
const NO_PARENT = 2147483647;

type Json = Record<string, unknown>;

/** Float32 values that must be written as JSON numbers with a fraction or exponent. */
class Floats {
  constructor(readonly values: readonly number[]) {}
}

/**
 * XGBoost's JSON reader types `1` as an integer and `1.0` as a number, and rejects an integer where
 * it expects a number (a leaf value of exactly 1, say), so floats are written with a fraction.
 */
function floatToken(value: number): string {
  const text = String(f32Json(value));
  return /[.eEn]/.test(text) ? text : `${text}.0`;
}

/** JSON text of `value`, writing Floats with floatToken. */
function write(value: unknown): string {
  if (value instanceof Floats) return `[${value.values.map(floatToken).join(',')}]`;
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The model file of a boosted tree ensemble. */
export function boostedModelJson(model: BoostedModel): string {
  const booster = {
    name: 'gbtree',
    model: {
      gbtree_model_param: {
        num_parallel_tree: '1',
        num_trees: String(model.trees.length),
        size_leaf_vector: '0',
      },
      tree_info: model.trees.map(() => 0),
      trees: model.trees.map((tree, id) => treeJson(tree, id, model.featureCount)),
    },
  };
  return write(learnerJson(model, model.objective, model.baseScore, booster));
}

/**
 * The model file of a logistic regression: gblinear weights on raw features (standardisation folded
 * in), the intercept as its bias and base_score 0.5, whose margin is 0.
 */
export function logisticModelJson(model: LogisticModel): string {
  const booster = {
    name: 'gblinear',
    model: { boosted_rounds: model.iterations, weights: new Floats([...model.coef, model.intercept]) },
  };
  return write(learnerJson(model, 'binary:logistic', 0.5, booster));
}

function learnerJson(
  model: { featureCount: number; featureNames?: string[] },
  objective: string,
  baseScore: number,
  booster: Json,
): Json {
  const names = model.featureNames ?? [];
  return {
    learner: {
      attributes: {},
      feature_names: names,
      feature_types: names.map(() => 'float'),
      gradient_booster: booster,
      learner_model_param: {
        base_score: String(f32Json(baseScore)),
        boost_from_average: '1',
        num_class: '0',
        num_feature: String(model.featureCount),
        num_target: '1',
      },
      objective: { name: objective, reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: VERSION,
  };
}

function treeJson(tree: Tree, id: number, featureCount: number): Json {
  const n = tree.left.length;
  const parents = new Array<number>(n).fill(NO_PARENT);
  tree.left.forEach((child, node) => {
    if (child !== -1) {
      parents[child] = node;
      parents[tree.right[node]!] = node;
    }
  });
  return {
    base_weights: new Floats(tree.weight),
    categories: [],
    categories_nodes: [],
    categories_segments: [],
    categories_sizes: [],
    default_left: tree.defaultLeft.map(Number),
    id,
    left_children: tree.left,
    loss_changes: new Floats(tree.gain),
    parents,
    right_children: tree.right,
    split_conditions: new Floats(tree.value),
    split_indices: tree.feature,
    split_type: tree.left.map(() => 0),
    sum_hessian: new Floats(tree.sumHess),
    tree_param: {
      num_deleted: '0',
      num_feature: String(featureCount),
      num_nodes: String(n),
      size_leaf_vector: '0',
    },
  };
}

/**
 * One `Tree=` block of a LightGBM text model, parsed into typed arrays and validated so that the
 * evaluator's walk always terminates inside the arrays: every internal child index is greater than its
 * parent's (LightGBM numbers nodes in split order), every leaf index is in range, and every categorical
 * split points at a bitset that exists.
 */
import { badModel } from './lightgbm-bad-model.js';

/** `decision_type` bits, as LightGBM's `Tree` defines them. */
export const CATEGORICAL_MASK = 1;
export const DEFAULT_LEFT_MASK = 2;
/** Missing type, `(decision_type >> 2) & 3`. */
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;

/** A tree as written: `num_leaves - 1` internal nodes, children `< 0` are leaves `~child`. */
export interface LightgbmTree {
  numLeaves: number;
  numCat: number;
  splitFeature: Int32Array;
  /** Numerical splits: the threshold; categorical splits: the index into `catBoundaries`. */
  threshold: Float64Array;
  decisionType: Uint8Array;
  leftChild: Int32Array;
  rightChild: Int32Array;
  /** Already multiplied by the tree's shrinkage when LightGBM saved it. */
  leafValue: Float64Array;
  /** `numCat + 1` offsets into `catThreshold`; categorical split `i` owns words `[b[i], b[i+1])`. */
  catBoundaries: Int32Array;
  /** 32-bit words of the category bitsets: a category in the set goes left. */
  catThreshold: Uint32Array;
}

type KeyValues = Map<string, string>;

/** Parses and validates the key/value lines of `Tree=<index>`. */
export function parseTree(kv: KeyValues, index: number, featureCount: number): LightgbmTree {
  const where = `Tree=${index}`;
  if (kv.get('is_linear') === '1') {
    throw badModel(
      `${where} is a linear tree (linear_tree=true), which this runtime does not evaluate; retrain without linear_tree`,
    );
  }
  const numLeaves = intValue(kv, 'num_leaves', where, 1);
  const numCat = kv.has('num_cat') ? intValue(kv, 'num_cat', where, 0) : 0;
  const nodes = numLeaves - 1;
  const tree: LightgbmTree = {
    numLeaves,
    numCat,
    splitFeature: Int32Array.from(numbers(kv, 'split_feature', nodes, where, 'int')),
    threshold: Float64Array.from(numbers(kv, 'threshold', nodes, where, 'real')),
    decisionType: Uint8Array.from(numbers(kv, 'decision_type', nodes, where, 'int')),
    leftChild: Int32Array.from(numbers(kv, 'left_child', nodes, where, 'int')),
    rightChild: Int32Array.from(numbers(kv, 'right_child', nodes, where, 'int')),
    leafValue: Float64Array.from(numbers(kv, 'leaf_value', numLeaves, where, 'real')),
    catBoundaries: Int32Array.from(
      numCat > 0 ? numbers(kv, 'cat_boundaries', numCat + 1, where, 'int') : [0],
    ),
    catThreshold: Uint32Array.from(numCat > 0 ? numbers(kv, 'cat_threshold', -1, where, 'uint32') : []),
  };
  checkNodes(tree, featureCount, where);
  checkCategories(tree, where);
  return tree;
}

type Kind = 'int' | 'real' | 'uint32';

/** How C++ streams write infinities (a numerical split that sends every non-missing value left). */
const INFINITIES = new Map([
  ['inf', Number.POSITIVE_INFINITY],
  ['-inf', Number.NEGATIVE_INFINITY],
]);

function numbers(kv: KeyValues, key: string, count: number, where: string, kind: Kind): number[] {
  const text = kv.get(key);
  if (text === undefined) {
    if (count === 0) return [];
    throw badModel(`${where} has no \`${key}=\` line`);
  }
  const values = text === '' ? [] : text.split(' ').map((token) => parseNumber(token, kind, key, where));
  if (count >= 0 && values.length !== count) {
    throw badModel(
      `${where} \`${key}=\` has ${values.length} values, expected ${count} (from num_leaves/num_cat)`,
    );
  }
  return values;
}

function parseNumber(token: string, kind: Kind, key: string, where: string): number {
  const value = token === '' ? Number.NaN : (INFINITIES.get(token) ?? Number(token));
  const ok =
    kind === 'real'
      ? !Number.isNaN(value) && (key === 'threshold' || Number.isFinite(value))
      : Number.isSafeInteger(value) &&
        (kind === 'int' ? Math.abs(value) < 2 ** 31 : value >= 0 && value < 2 ** 32);
  if (!ok)
    throw badModel(
      `${where} \`${key}=\` has \`${token}\` where ${kind === 'real' ? 'a number (finite, except thresholds)' : 'an integer'} belongs`,
    );
  return value;
}

function intValue(kv: KeyValues, key: string, where: string, min: number): number {
  const text = kv.get(key);
  const value = text === undefined || text === '' ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw badModel(`${where} needs \`${key}=\` as an integer >= ${min}, found ${text ?? 'none'}`);
  }
  return value;
}

function checkNodes(tree: LightgbmTree, featureCount: number, where: string): void {
  const nodes = tree.numLeaves - 1;
  for (let node = 0; node < nodes; node++) {
    const feature = tree.splitFeature[node]!;
    if (feature < 0 || feature >= featureCount) {
      throw badModel(
        `${where} node ${node} splits on feature ${feature}, but the model has ${featureCount} features`,
      );
    }
    const type = tree.decisionType[node]!;
    if (type > 11 || type >> 2 > MISSING_NAN) {
      throw badModel(`${where} node ${node} has decision_type=${type}, which LightGBM never writes`);
    }
    for (const child of [tree.leftChild[node]!, tree.rightChild[node]!]) {
      const ok = child >= 0 ? child > node && child < nodes : ~child < tree.numLeaves;
      if (!ok)
        throw badModel(
          `${where} node ${node} has child ${child}, outside the tree's ${nodes} nodes and ${tree.numLeaves} leaves`,
        );
    }
  }
}

function checkCategories(tree: LightgbmTree, where: string): void {
  const bounds = tree.catBoundaries;
  for (let i = 0; i < tree.numCat; i++) {
    if (bounds[i]! > bounds[i + 1]!) throw badModel(`${where} \`cat_boundaries=\` must not decrease`);
  }
  if (bounds[0] !== 0 || bounds[tree.numCat] !== tree.catThreshold.length) {
    throw badModel(
      `${where} \`cat_boundaries=\` must run from 0 to the ${tree.catThreshold.length} words of \`cat_threshold=\``,
    );
  }
  for (let node = 0; node < tree.numLeaves - 1; node++) {
    if ((tree.decisionType[node]! & CATEGORICAL_MASK) === 0) continue;
    const catIndex = tree.threshold[node]!;
    if (!Number.isInteger(catIndex) || catIndex < 0 || catIndex >= tree.numCat) {
      throw badModel(
        `${where} categorical node ${node} refers to bitset ${catIndex}, but num_cat=${tree.numCat}`,
      );
    }
  }
}

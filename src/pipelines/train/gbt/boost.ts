/**
 * Gradient boosting of histogram trees (XGBoost's hist method, depthwise): each round computes the
 * objective's gradients and hessians at the current margins, grows a tree on them (on a seeded
 * Bernoulli sample of rows when `subsample` < 1) and adds its leaves to the margins. Everything is
 * sequential and seeded, so the same data and options give the same model bit for bit.
 */
import { invalidArgument } from '../../../core/errors.js';
import { checkTrainingSet, type TrainingSet } from '../dataset.js';
import { f32, logitMargin, sigmoid32 } from '../float32.js';
import { binMatrix } from './bins.js';
import { HistogramPool } from './histogram.js';
import { type BoostObjective, type BoostOptions, resolveBoostOptions } from './options.js';
import { growTree, leafOfBinned, type Tree } from './tree.js';

/** A boosted tree ensemble. */
export interface BoostedModel {
  kind: 'gbt';
  objective: BoostObjective;
  featureCount: number;
  featureNames?: string[];
  /** base_score as written (a probability for binary:logistic), a float32 value. */
  baseScore: number;
  trees: Tree[];
}

/** Hessians below this are raised to it, as XGBoost does for the logistic loss. */
const MIN_HESSIAN = 1e-16;

/** Fits boosted trees; features may hold NaN (missing), labels must be 0/1 for binary:logistic. */
export function fitBoosted(set: TrainingSet, options: BoostOptions): BoostedModel {
  const o = resolveBoostOptions(options);
  checkTrainingSet(set, o.objective === 'binary:logistic' ? 'binary' : 'real', 'missing-allowed');
  const baseScore = f32(o.baseScore ?? mean(set.labels));
  const base = baseMarginOf(o.objective, baseScore);
  const binned = binMatrix(set.features, set.rows, set.featureCount, o.maxBin);
  const margins = new Float64Array(set.rows).fill(base);
  const grad = new Float64Array(set.rows);
  const hess = new Float64Array(set.rows);
  const rows = new Int32Array(set.rows);
  const random = mulberry32(o.seed);
  const work = { pool: new HistogramPool(2 * binned.cuts.length), scratch: new Int32Array(set.rows) };
  const trees: Tree[] = [];
  for (let round = 0; round < o.rounds; round++) {
    gradients(o.objective, margins, set.labels, grad, hess);
    const count = sampleRows(rows, set.rows, o.subsample, random);
    const tree = growTree(binned, rows, count, grad, hess, o, work);
    for (let r = 0; r < set.rows; r++) margins[r] = margins[r]! + leafOfBinned(tree, binned, r);
    trees.push(tree);
  }
  return {
    kind: 'gbt',
    objective: o.objective,
    featureCount: set.featureCount,
    ...(set.featureNames ? { featureNames: set.featureNames } : {}),
    baseScore,
    trees,
  };
}

/**
 * Predictions for row-major `values` (probability of class 1, or the regression value), computed
 * as XGBoost predicts: float32 inputs and thresholds, `value < threshold` goes left, NaN takes the
 * default branch, margins summed in float32 from the base margin.
 */
export function predictBoosted(model: BoostedModel, values: Float64Array, rows: number): Float64Array {
  const d = model.featureCount;
  const margins = new Float32Array(rows).fill(baseMarginOf(model.objective, model.baseScore));
  for (const tree of model.trees) {
    for (let r = 0; r < rows; r++) margins[r] = margins[r]! + leafOf(tree, values, r * d);
  }
  const logistic = model.objective === 'binary:logistic';
  return Float64Array.from(margins, (m) => (logistic ? sigmoid32(m) : m));
}

function leafOf(tree: Tree, values: Float64Array, base: number): number {
  let node = 0;
  while (tree.left[node] !== -1) {
    const x = f32(values[base + tree.feature[node]!]!);
    const goesLeft = Number.isNaN(x) ? tree.defaultLeft[node]! : x < tree.value[node]!;
    node = goesLeft ? tree.left[node]! : tree.right[node]!;
  }
  return tree.value[node]!;
}

/** The margin every row starts from, as XGBoost derives it from base_score. */
export function baseMarginOf(objective: BoostObjective, baseScore: number): number {
  if (objective === 'reg:squarederror') return f32(baseScore);
  if (!(baseScore > 0 && baseScore < 1)) {
    throw invalidArgument('options.baseScore', `${baseScore} is not a probability`, 'use a value in (0, 1)');
  }
  return logitMargin(baseScore);
}

function gradients(
  objective: BoostObjective,
  margins: Float64Array,
  labels: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
): void {
  if (objective === 'reg:squarederror') {
    for (let r = 0; r < margins.length; r++) {
      grad[r] = margins[r]! - labels[r]!;
      hess[r] = 1;
    }
    return;
  }
  for (let r = 0; r < margins.length; r++) {
    const p = 1 / (1 + Math.exp(-margins[r]!));
    grad[r] = p - labels[r]!;
    hess[r] = Math.max(p * (1 - p), MIN_HESSIAN);
  }
}

/** Fills `rows` with the rows of this round (all, or a Bernoulli sample); returns their count. */
function sampleRows(rows: Int32Array, n: number, subsample: number, random: () => number): number {
  let count = 0;
  for (let r = 0; r < n; r++) if (subsample >= 1 || random() < subsample) rows[count++] = r;
  return count;
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Binary logistic regression with an L2 penalty, fitted by Newton's method (IRLS) with a backtracking
 * line search on standardised features. It minimises sum(log loss) + l2/2 * |w|^2 over the
 * standardised weights (intercept unpenalised): scikit-learn's LogisticRegression(C = 1/l2) on
 * StandardScaler output, the same strictly convex objective, so both reach the same optimum.
 * Newton costs rows * features^2 per step and converges in a handful of steps: exact and
 * deterministic for tabular feature counts (for thousands of features L-BFGS would be cheaper).
 */
import { invalidArgument } from '../../core/errors.js';
import { checkTrainingSet, type TrainingSet } from './dataset.js';
import { f32, sigmoid32 } from './float32.js';
import { solveSpd } from './linalg.js';

export interface LogisticOptions {
  /** L2 strength on the standardised weights (scikit-learn's 1/C); must be positive. Default 1. */
  l2?: number;
  /** Newton steps at most; default 100. */
  maxIterations?: number;
  /** Stop when every gradient component, divided by the row count, is below this; default 1e-10. */
  tolerance?: number;
}

/** A fitted model: standardisation, weights in both spaces and how the fit went. */
export interface LogisticModel {
  kind: 'logistic';
  featureCount: number;
  featureNames?: string[];
  /** Mean and population standard deviation of each training column. */
  mean: Float64Array;
  scale: Float64Array;
  coefStandardised: Float64Array;
  interceptStandardised: number;
  /** The standardisation folded in: weights on raw feature values. */
  coef: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

interface Terms {
  loss: number;
  gradient: Float64Array;
  hessian?: Float64Array;
}

/** Fits a logistic regression to 0/1 labels; rejects NaN, infinite or constant features. */
export function fitLogistic(set: TrainingSet, options: LogisticOptions = {}): LogisticModel {
  const l2 = options.l2 ?? 1;
  if (!(l2 > 0 && Number.isFinite(l2))) {
    throw invalidArgument(
      'options.l2',
      `${l2} is not a positive number`,
      'use e.g. 1 (scikit-learn C = 1/l2)',
    );
  }
  checkTrainingSet(set, 'binary', 'finite');
  const { mean, scale } = standardisation(set);
  const z = standardise(set, mean, scale);
  const d = set.featureCount;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = (options.tolerance ?? 1e-10) * set.rows;
  let theta: Float64Array = new Float64Array(d + 1);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations && !converged; iterations++) {
    const terms = logLikelihood(z, set.labels, theta, l2, true);
    if (maxAbs(terms.gradient) <= tolerance) {
      converged = true;
      break;
    }
    const step = solveSpd(terms.hessian!, d + 1, terms.gradient);
    const next = lineSearch(z, set.labels, theta, step, terms, l2);
    // No decrease along a Newton step means the loss is flat to rounding: the optimum.
    converged = next === null;
    theta = next ?? theta;
  }
  const coefStandardised = theta.slice(0, d);
  const interceptStandardised = theta[d]!;
  const coef = coefStandardised.map((w, j) => w / scale[j]!);
  const intercept = interceptStandardised - coef.reduce((s, w, j) => s + w * mean[j]!, 0);
  return {
    kind: 'logistic',
    featureCount: d,
    ...(set.featureNames ? { featureNames: set.featureNames } : {}),
    mean,
    scale,
    coefStandardised,
    interceptStandardised,
    coef,
    intercept,
    iterations,
    converged,
  };
}

/**
 * Probabilities of class 1 for row-major `values`, computed as XGBoost's gblinear predicts the
 * written model: float32 weights, float32 products and sums, a missing value (NaN) contributing 0.
 */
export function predictLogistic(model: LogisticModel, values: Float64Array, rows: number): Float64Array {
  const d = model.featureCount;
  const weights = Float32Array.from(model.coef);
  const bias = f32(model.intercept);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let margin = bias;
    for (let j = 0; j < d; j++) {
      const x = f32(values[r * d + j]!);
      if (!Number.isNaN(x)) margin = f32(margin + f32(x * weights[j]!));
    }
    out[r] = sigmoid32(margin);
  }
  return out;
}

function standardisation(set: TrainingSet): { mean: Float64Array; scale: Float64Array } {
  const { rows, featureCount: d, features } = set;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + features[r * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / rows;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) scale[j] = scale[j]! + (features[r * d + j]! - mean[j]!) ** 2;
  }
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]! / rows);
  return { mean, scale };
}

/** Standardised rows with a trailing 1 for the intercept: rows × (features + 1). */
function standardise(set: TrainingSet, mean: Float64Array, scale: Float64Array): Float64Array {
  const d = set.featureCount;
  const z = new Float64Array(set.rows * (d + 1));
  for (let r = 0; r < set.rows; r++) {
    for (let j = 0; j < d; j++) z[r * (d + 1) + j] = (set.features[r * d + j]! - mean[j]!) / scale[j]!;
    z[r * (d + 1) + d] = 1;
  }
  return z;
}

/** log(1 + e^m) without overflow. */
function softplus(m: number): number {
  return m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
}

/** The penalised loss, its gradient and (optionally) its Hessian at `theta`. */
function logLikelihood(
  z: Float64Array,
  y: Float64Array,
  theta: Float64Array,
  l2: number,
  hessian: boolean,
): Terms {
  const k = theta.length;
  const gradient = new Float64Array(k);
  const h = hessian ? new Float64Array(k * k) : undefined;
  let loss = 0;
  for (let r = 0; r < y.length; r++) {
    const base = r * k;
    let m = 0;
    for (let j = 0; j < k; j++) m += z[base + j]! * theta[j]!;
    loss += softplus(m) - y[r]! * m;
    const p = 1 / (1 + Math.exp(-m));
    const residual = p - y[r]!;
    for (let j = 0; j < k; j++) gradient[j] = gradient[j]! + residual * z[base + j]!;
    if (h) addOuter(h, z, base, k, p * (1 - p));
  }
  for (let j = 0; j < k - 1; j++) {
    loss += 0.5 * l2 * theta[j]! ** 2;
    gradient[j] = gradient[j]! + l2 * theta[j]!;
    if (h) h[j * k + j] = h[j * k + j]! + l2;
  }
  if (h) mirrorLower(h, k);
  return h ? { loss, gradient, hessian: h } : { loss, gradient };
}

/** Adds `weight * z z^T` to the lower triangle of `h`. */
function addOuter(h: Float64Array, z: Float64Array, base: number, k: number, weight: number): void {
  for (let i = 0; i < k; i++) {
    const wi = weight * z[base + i]!;
    for (let j = 0; j <= i; j++) h[i * k + j] = h[i * k + j]! + wi * z[base + j]!;
  }
}

function mirrorLower(h: Float64Array, k: number): void {
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) h[i * k + j] = h[j * k + i]!;
}

/** Backtracking (Armijo) along the Newton step (the full step near the optimum); null if none decreases. */
function lineSearch(
  z: Float64Array,
  y: Float64Array,
  theta: Float64Array,
  step: Float64Array,
  at: Terms,
  l2: number,
): Float64Array | null {
  const slope = step.reduce((s, v, j) => s + v * at.gradient[j]!, 0);
  for (let t = 1; t > 1e-6; t /= 2) {
    const next = theta.map((v, j) => v - t * step[j]!);
    if (logLikelihood(z, y, next, l2, false).loss <= at.loss - 1e-4 * t * slope) return next;
  }
  return null;
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}

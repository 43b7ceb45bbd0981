/**
 * Gradient histograms and split finding of the hist method: per node, the sums of gradients and
 * hessians of its rows in every bin, scanned left to right per feature for the split of highest
 * gain. A child's histogram is its parent's minus its sibling's, so only the smaller child is built.
 */
import { type BinnedMatrix, MISSING } from './bins.js';

/** Split-finding parameters, named as XGBoost names them. */
export interface SplitParams {
  lambda: number;
  minChildWeight: number;
  /** Minimum loss reduction (XGBoost's gamma / min_split_loss). */
  gamma: number;
}

/** A node's best split: left gets global bins <= `bin` of `feature`, and missing values if `defaultLeft`. */
export interface Split {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  leftGrad: number;
  leftHess: number;
}

/** XGBoost's kRtEps: a split must reduce the loss by more than this. */
const MIN_GAIN = 1e-6;

/** Adds the gradients and hessians of `rows[begin, end)` into `hist` (grad, hess interleaved per bin). */
export function buildHistogram(
  hist: Float64Array,
  m: BinnedMatrix,
  rows: Int32Array,
  begin: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
): void {
  const d = m.featureCount;
  const bins = m.bins;
  hist.fill(0);
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    const g = grad[r]!;
    const h = hess[r]!;
    const base = r * d;
    for (let j = 0; j < d; j++) {
      const b = bins[base + j]!;
      if (b === MISSING) continue;
      hist[2 * b] = hist[2 * b]! + g;
      hist[2 * b + 1] = hist[2 * b + 1]! + h;
    }
  }
}

/** Histogram buffers reused across nodes and trees, so growing a tree allocates nothing. */
export class HistogramPool {
  private readonly free: Float64Array[] = [];

  constructor(private readonly length: number) {}

  /** A buffer with arbitrary contents. */
  take(): Float64Array {
    return this.free.pop() ?? new Float64Array(this.length);
  }

  give(hist: Float64Array): void {
    this.free.push(hist);
  }
}

/** `parent - sibling` into `out`. */
export function subtractHistogram(out: Float64Array, parent: Float64Array, sibling: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = parent[i]! - sibling[i]!;
}

/** Leaf score of a gradient/hessian sum (its contribution to the gain). */
function score(g: number, h: number, lambda: number): number {
  return (g * g) / (h + lambda);
}

/** The best split of a node with gradient sum `grad`, hessian sum `hess`, or null if none gains. */
export function bestSplit(
  hist: Float64Array,
  m: BinnedMatrix,
  grad: number,
  hess: number,
  p: SplitParams,
): Split | null {
  let best: Split | null = null;
  const parent = score(grad, hess, p.lambda);
  const floor = Math.max(MIN_GAIN, p.gamma);
  for (let j = 0; j < m.featureCount; j++) {
    const candidate = bestOfFeature(hist, m, j, grad, hess, parent, p);
    if (candidate && candidate.gain > floor && (!best || candidate.gain > best.gain)) best = candidate;
  }
  return best;
}

function bestOfFeature(
  hist: Float64Array,
  m: BinnedMatrix,
  j: number,
  grad: number,
  hess: number,
  parent: number,
  p: SplitParams,
): Split | null {
  const first = m.offsets[j]!;
  const last = m.offsets[j + 1]! - 1;
  const missing = m.hasMissing[j] === 1;
  let missGrad = 0;
  let missHess = 0;
  if (missing) {
    missGrad = grad;
    missHess = hess;
    for (let b = first; b <= last; b++) {
      missGrad -= hist[2 * b]!;
      missHess -= hist[2 * b + 1]!;
    }
  }
  let bestGain = Number.NEGATIVE_INFINITY;
  let bestBin = -1;
  let bestLeft = false;
  let gl = 0;
  let hl = 0;
  for (let b = first; b < last; b++) {
    gl += hist[2 * b]!;
    hl += hist[2 * b + 1]!;
    const right = consider(gl, hl, grad, hess, parent, p);
    if (right > bestGain) {
      bestGain = right;
      bestBin = b;
      bestLeft = false;
    }
    if (!missing) continue;
    const left = consider(gl + missGrad, hl + missHess, grad, hess, parent, p);
    if (left > bestGain) {
      bestGain = left;
      bestBin = b;
      bestLeft = true;
    }
  }
  return bestBin < 0 ? null : splitAt(hist, j, first, bestBin, bestLeft, bestGain, missGrad, missHess);
}

/** The split of feature `j` sending bins `first..bin` (and missing values if `defaultLeft`) left. */
function splitAt(
  hist: Float64Array,
  j: number,
  first: number,
  bin: number,
  defaultLeft: boolean,
  gain: number,
  missGrad: number,
  missHess: number,
): Split {
  let leftGrad = defaultLeft ? missGrad : 0;
  let leftHess = defaultLeft ? missHess : 0;
  for (let b = first; b <= bin; b++) {
    leftGrad += hist[2 * b]!;
    leftHess += hist[2 * b + 1]!;
  }
  return { gain, feature: j, bin, defaultLeft, leftGrad, leftHess };
}

/** The gain of a split with left sums (gl, hl), or -Infinity if a child is too light. */
function consider(
  gl: number,
  hl: number,
  grad: number,
  hess: number,
  parent: number,
  p: SplitParams,
): number {
  const hr = hess - hl;
  if (hl < p.minChildWeight || hr < p.minChildWeight) return Number.NEGATIVE_INFINITY;
  return score(gl, hl, p.lambda) + score(grad - gl, hr, p.lambda) - parent;
}

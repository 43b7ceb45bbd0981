/**
 * The XGBoost objectives we serve: how each turns `base_score` into a base margin and margins into
 * outputs, in float32 with the same operations as XGBoost 1.7 (`common::Sigmoid`, `common::Softmax`,
 * glibc's `expf`), so outputs match its own predictions bit for bit.
 */
import { invalidArgument } from '../../core/errors.js';
import type { ModelTask, Prediction } from './model.js';
import { expf } from './xgboost-expf.js';

type Link = 'sigmoid' | 'softmax' | 'identity' | 'exp';

/** What an objective means for serving. */
export interface ObjectiveSpec {
  task: ModelTask;
  link: Link;
  /** Whether base_score is a probability (logit base margin) or a mean (log base margin). */
  base: 'logit' | 'log' | 'identity';
}

const OBJECTIVES: Record<string, ObjectiveSpec> = {
  'binary:logistic': { task: 'classification', link: 'sigmoid', base: 'logit' },
  'multi:softprob': { task: 'classification', link: 'softmax', base: 'identity' },
  'multi:softmax': { task: 'classification', link: 'softmax', base: 'identity' },
  'reg:squarederror': { task: 'regression', link: 'identity', base: 'identity' },
  'reg:squaredlogerror': { task: 'regression', link: 'identity', base: 'identity' },
  'reg:pseudohubererror': { task: 'regression', link: 'identity', base: 'identity' },
  'reg:absoluteerror': { task: 'regression', link: 'identity', base: 'identity' },
  'reg:logistic': { task: 'regression', link: 'sigmoid', base: 'logit' },
  'count:poisson': { task: 'regression', link: 'exp', base: 'log' },
  'reg:gamma': { task: 'regression', link: 'exp', base: 'log' },
  'reg:tweedie': { task: 'regression', link: 'exp', base: 'log' },
};

/** The serving meaning of an objective; INVALID_ARGUMENT listing the supported ones otherwise. */
export function objectiveSpec(name: string): ObjectiveSpec {
  const spec = OBJECTIVES[name];
  if (!spec) {
    throw invalidArgument(
      'file',
      `objective "${name}" is not supported`,
      `expected one of ${Object.keys(OBJECTIVES).join(', ')}`,
    );
  }
  return spec;
}

/** XGBoost's ProbToMargin in float32: base_score as a margin. */
export function baseMargin(spec: ObjectiveSpec, baseScore: number): number {
  const p = Math.fround(baseScore);
  if (spec.base === 'logit') {
    if (!(p > 0 && p < 1))
      throw invalidArgument('file', `base_score ${baseScore} is not a probability in (0, 1)`);
    return Math.fround(-Math.fround(Math.log(Math.fround(Math.fround(1 / p) - 1))));
  }
  if (spec.base === 'log') {
    if (!(p > 0)) throw invalidArgument('file', `base_score ${baseScore} must be positive for a log link`);
    return Math.fround(Math.log(p));
  }
  return p;
}

/** `common::Sigmoid(float)` of XGBoost 1.7: 1 / (expf(min(-x, 88.7)) + 1) in float32. */
function sigmoid(x: number): number {
  const e = expf(Math.min(-x, Math.fround(88.7)));
  return Math.fround(1 / Math.fround(e + 1));
}

/** Turns float32 margins (`rows * groups`) into the objective's outputs. */
export function transformMargins(
  spec: ObjectiveSpec,
  margins: Float32Array,
  rows: number,
  groups: number,
): Prediction {
  if (spec.task === 'regression') {
    const predictions = new Float32Array(rows);
    for (let r = 0; r < rows; r++) predictions[r] = applyLink(spec.link, margins[r]!);
    return { predictions };
  }
  if (groups === 1) return binaryOutputs(margins, rows);
  const probabilities = new Float32Array(rows * groups);
  const label = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    softmaxInto(margins, r * groups, groups, probabilities);
    label[r] = argmax(probabilities, r * groups, groups);
  }
  return { probabilities, label };
}

function applyLink(link: Link, m: number): number {
  if (link === 'sigmoid') return sigmoid(m);
  if (link === 'exp') return expf(m);
  return m;
}

function binaryOutputs(margins: Float32Array, rows: number): Prediction {
  const probabilities = new Float32Array(rows * 2);
  const label = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const p = sigmoid(margins[r]!);
    probabilities[2 * r] = 1 - p;
    probabilities[2 * r + 1] = p;
    label[r] = probabilities[2 * r + 1]! > probabilities[2 * r]! ? 1 : 0;
  }
  return { probabilities, label };
}

/** `common::Softmax` of XGBoost 1.7: expf(x - max) in float32, summed in double, divided in float32. */
function softmaxInto(margins: Float32Array, start: number, n: number, out: Float32Array): void {
  let max = margins[start]!;
  for (let i = 1; i < n; i++) max = Math.max(max, margins[start + i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = expf(Math.fround(margins[start + i]! - max));
    out[start + i] = e;
    sum += e;
  }
  const denominator = Math.fround(sum);
  for (let i = 0; i < n; i++) out[start + i] = out[start + i]! / denominator;
}

function argmax(values: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}

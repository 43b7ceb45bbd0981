/**
 * Turns raw LightGBM scores into what the model answers, as each objective's `ConvertOutput` does
 * (with glibc's `exp`, which LightGBM calls, so the answers match LightGBM's bit for bit):
 * sigmoid for `binary`/`cross_entropy`/`multiclassova`, softmax for `multiclass`, `exp` for the log-link
 * regressions, `sign(x)·x²` for regressions trained with `sqrt`, identity otherwise.
 */
import { badModel } from './lightgbm-bad-model.js';
import { glibcExp } from './lightgbm-exp.js';
import type { LightgbmModelText } from './lightgbm-format.js';

export type OutputTransform = 'sigmoid' | 'softmax' | 'sigmoid-each' | 'identity' | 'exp' | 'square';

/** How a model's raw scores become its answer. */
export interface ObjectiveOutput {
  objective: string;
  task: 'classification' | 'regression';
  /** Classifiers: probability columns answered (2 for binary: `[1 - p, p]`). */
  classCount: number;
  transform: OutputTransform;
  sigmoid: number;
}

const IDENTITY_REGRESSIONS = new Set([
  'regression',
  'regression_l1',
  'huber',
  'fair',
  'quantile',
  'mape',
  'lambdarank',
  'rank_xendcg',
]);
const EXP_REGRESSIONS = new Set(['poisson', 'gamma', 'tweedie']);

/** Resolves the model's objective line, rejecting objectives this runtime cannot reproduce. */
export function objectiveOutput(model: LightgbmModelText): ObjectiveOutput {
  const objective = model.objective;
  if (objective === undefined) {
    if (model.numClass === 1) return regression('none (custom)', 'identity');
    throw badModel(
      `a ${model.numClass}-class model without \`objective=\` (custom objective) has no defined probabilities`,
    );
  }
  const { name, flags } = objective;
  const sigmoid = sigmoidOf(objective.params.sigmoid);
  if (name === 'binary') return classifier(name, 2, 'sigmoid', sigmoid, model.numClass, 1);
  if (name === 'cross_entropy' || name === 'xentropy')
    return classifier(name, 2, 'sigmoid', 1, model.numClass, 1);
  if (name === 'multiclass' || name === 'softmax') {
    return classifier(
      name,
      model.numClass,
      'softmax',
      1,
      model.numClass,
      numClassOf(objective.params.num_class),
    );
  }
  if (name === 'multiclassova' || name === 'multiclass_ova' || name === 'ova' || name === 'ovr') {
    return classifier(
      name,
      model.numClass,
      'sigmoid-each',
      sigmoid,
      model.numClass,
      numClassOf(objective.params.num_class),
    );
  }
  if (model.numClass !== 1)
    throw badModel(`objective ${name} with num_class=${model.numClass} is not a known combination`);
  if (IDENTITY_REGRESSIONS.has(name)) return regression(name, flags.includes('sqrt') ? 'square' : 'identity');
  if (EXP_REGRESSIONS.has(name)) return regression(name, 'exp');
  throw badModel(
    `objective \`${name}\` is not supported; supported: binary, cross_entropy, multiclass, multiclassova, ${[...IDENTITY_REGRESSIONS, ...EXP_REGRESSIONS].join(', ')}`,
  );
}

function regression(objective: string, transform: OutputTransform): ObjectiveOutput {
  return { objective, task: 'regression', classCount: 0, transform, sigmoid: 1 };
}

function classifier(
  objective: string,
  classCount: number,
  transform: OutputTransform,
  sigmoid: number,
  numClass: number,
  expectedNumClass: number | undefined,
): ObjectiveOutput {
  const expected = transform === 'sigmoid' ? 1 : expectedNumClass;
  if (expected !== undefined && numClass !== expected) {
    throw badModel(
      `objective ${objective} expects num_class=${expected}, but the header says num_class=${numClass}`,
    );
  }
  if (transform !== 'sigmoid' && numClass < 2) throw badModel(`objective ${objective} needs num_class >= 2`);
  return { objective, task: 'classification', classCount, transform, sigmoid };
}

function sigmoidOf(text: string | undefined): number {
  if (text === undefined) return 1;
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value <= 0)
    throw badModel(`objective parameter sigmoid:${text} must be a positive number`);
  return value;
}

function numClassOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

/**
 * Writes the answer for `rows` rows of raw scores (`classes` per row) into `out`: classifiers
 * `classCount` probabilities per row, regressors one value per row.
 */
export function applyObjective(
  output: ObjectiveOutput,
  raw: Float64Array,
  rows: number,
  classes: number,
): Float64Array {
  const width = output.task === 'classification' ? output.classCount : 1;
  const out = new Float64Array(rows * width);
  for (let row = 0; row < rows; row++) {
    const from = row * classes;
    const to = row * width;
    switch (output.transform) {
      case 'sigmoid': {
        const p = 1 / (1 + glibcExp(-output.sigmoid * raw[from]!));
        out[to] = 1 - p;
        out[to + 1] = p;
        break;
      }
      case 'softmax':
        softmax(raw, from, classes, out, to);
        break;
      case 'sigmoid-each':
        for (let k = 0; k < classes; k++) out[to + k] = 1 / (1 + glibcExp(-output.sigmoid * raw[from + k]!));
        break;
      case 'exp':
        out[to] = glibcExp(raw[from]!);
        break;
      case 'square':
        out[to] = Math.sign(raw[from]!) * raw[from]! * raw[from]!;
        break;
      case 'identity':
        out[to] = raw[from]!;
        break;
    }
  }
  return out;
}

/** LightGBM's `Common::Softmax`: `exp(x - max)`, summed in order from 0, each divided by the sum. */
function softmax(raw: Float64Array, from: number, classes: number, out: Float64Array, to: number): void {
  let max = raw[from]!;
  for (let k = 1; k < classes; k++) max = Math.max(raw[from + k]!, max);
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const e = glibcExp(raw[from + k]! - max);
    out[to + k] = e;
    sum += e;
  }
  for (let k = 0; k < classes; k++) out[to + k] = out[to + k]! / sum;
}

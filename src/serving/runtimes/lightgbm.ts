/**
 * LightGBM text models (`Booster.save_model('m.txt')`), loaded and evaluated natively in double
 * precision, reproducing LightGBM's own predictions bit for bit on its fixtures.
 */
import { invalidArgument } from '../../core/errors.js';
import { decodeModelText, parseLightgbmModel } from './lightgbm-format.js';
import { applyObjective, type ObjectiveOutput, objectiveOutput } from './lightgbm-objective.js';
import { compileForest, type Forest, predictRaw } from './lightgbm-trees.js';
import type { InputBatch, LoadedModel, ModelLoader, ModelSignature, Prediction } from './model.js';

/** A loaded LightGBM model; `rawScores` exposes the margins LightGBM's `predict_raw_score` answers. */
export class LightgbmModel implements LoadedModel {
  readonly format = 'lightgbm' as const;

  constructor(
    readonly signature: ModelSignature,
    private readonly forest: Forest,
    private readonly output: ObjectiveOutput,
    /** Trees per iteration (the number of raw scores per row). */
    private readonly classes: number,
    /** Random-forest models average over iterations instead of summing. */
    private readonly averageOver: number | undefined,
  ) {}

  /** Raw scores, `classes` per row, as LightGBM's `predict_raw_score=true` answers them. */
  rawScores(batch: InputBatch): Float64Array {
    checkBatch(batch, this.signature.featureCount);
    const raw = predictRaw(this.forest, batch.values, batch.rows, this.signature.featureCount, this.classes);
    if (this.averageOver !== undefined) {
      for (let i = 0; i < raw.length; i++) raw[i] = raw[i]! / this.averageOver;
    }
    return raw;
  }

  /** Probabilities and labels for classifiers, predictions for regressors. */
  async predict(batch: InputBatch): Promise<Prediction> {
    const answer = applyObjective(this.output, this.rawScores(batch), batch.rows, this.classes);
    if (this.output.task === 'regression') return { predictions: answer };
    return { probabilities: answer, label: argmaxRows(answer, batch.rows, this.output.classCount) };
  }

  /** Nothing native to free. */
  async close(): Promise<void> {}
}

/** Loads a LightGBM text model; a corrupt or non-LightGBM file fails with INVALID_ARGUMENT naming `file`. */
export const loadLightgbmModel: ModelLoader = async (bytes) => {
  const model = parseLightgbmModel(decodeModelText(bytes));
  const output = objectiveOutput(model);
  const signature: ModelSignature = {
    task: output.task,
    featureCount: model.featureCount,
    ...(model.featureNames ? { featureNames: model.featureNames } : {}),
    ...(output.task === 'classification' ? { classCount: output.classCount } : {}),
    outputDatatype: 'FP64',
  };
  const iterations = model.trees.length / model.numTreePerIteration;
  return new LightgbmModel(
    signature,
    compileForest(model.trees),
    output,
    model.numTreePerIteration,
    model.averageOutput ? iterations : undefined,
  );
};

function checkBatch(batch: InputBatch, featureCount: number): void {
  if (!Number.isSafeInteger(batch.rows) || batch.rows < 0) {
    throw invalidArgument('input', `the row count must be a non-negative integer, got ${batch.rows}`);
  }
  if (batch.values.length !== batch.rows * featureCount) {
    throw invalidArgument(
      'input',
      `expected shape [${batch.rows}, ${featureCount}] (${batch.rows * featureCount} values), got ${batch.values.length} values`,
      `send ${featureCount} columns per row in the model's feature order`,
    );
  }
}

/** The most probable class per row; ties go to the lowest index. */
function argmaxRows(probabilities: Float64Array, rows: number, classes: number): Int32Array {
  const labels = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (probabilities[row * classes + k]! > probabilities[row * classes + best]!) best = k;
    }
    labels[row] = best;
  }
  return labels;
}

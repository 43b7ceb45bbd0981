/**
 * XGBoost JSON models (`Booster.save_model('m.json')`), evaluated natively in TypeScript with the
 * float32 arithmetic of XGBoost 1.7's CPU predictor. Outputs are FP32: XGBoost computes and answers
 * in float32, so these Float32Arrays hold exactly its values and FP64 would add bytes, not precision.
 */
import { invalidArgument } from '../../core/errors.js';
import type { InputBatch, LoadedModel, ModelLoader, ModelSignature, Prediction } from './model.js';
import { parseXgboostJson, readXgboostModel } from './xgboost-format.js';
import { isGblinear, linearMargins, readGblinearModel } from './xgboost-linear.js';
import { baseMargin, type ObjectiveSpec, objectiveSpec, transformMargins } from './xgboost-objectives.js';
import { compileEnsemble, computeMargins } from './xgboost-trees.js';

/** A loaded XGBoost model; `margins` exposes the raw scores (XGBoost's `output_margin=True`). */
export interface XgboostModel extends LoadedModel {
  margins(batch: InputBatch): Float32Array;
}

function decode(bytes: Uint8Array): string {
  if (bytes.length === 0)
    throw invalidArgument('file', 'the model file is empty', 'expected an XGBoost JSON model');
  const text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  if (!text.trimStart().startsWith('{')) {
    throw invalidArgument(
      'file',
      'not a JSON document (a binary or UBJSON XGBoost model, or another format?)',
      'expected an XGBoost JSON model: save it with Booster.save_model("model.json")',
    );
  }
  return text;
}

/** Checks a batch against the signature before any evaluation. */
function checkBatch(batch: InputBatch, featureCount: number): void {
  if (!Number.isInteger(batch.rows) || batch.rows < 0) {
    throw invalidArgument('input', `row count ${batch.rows} is not a non-negative integer`);
  }
  if (batch.values.length !== batch.rows * featureCount) {
    throw invalidArgument(
      'input',
      `${batch.values.length} values for ${batch.rows} rows of ${featureCount} features`,
      `send shape [${batch.rows}, ${featureCount}] in the model's feature order`,
    );
  }
}

function signatureOf(
  objective: ObjectiveSpec,
  e: { featureCount: number; groups: number },
  featureNames?: string[],
): ModelSignature {
  return {
    task: objective.task,
    featureCount: e.featureCount,
    ...(featureNames ? { featureNames } : {}),
    ...(objective.task === 'classification' ? { classCount: e.groups === 1 ? 2 : e.groups } : {}),
    outputDatatype: 'FP32',
  };
}

/** Builds a model from parsed JSON; exported for tests and tools that already hold the JSON. */
export function xgboostModelFromJson(json: unknown): XgboostModel {
  const spec = isGblinear(json) ? readGblinearModel(json) : readXgboostModel(json);
  const objective = objectiveSpec(spec.objective);
  if (objective.task === 'classification' && objective.link === 'softmax' && spec.groups < 2) {
    throw invalidArgument(
      'file',
      `objective ${spec.objective} with num_class ${spec.groups}`,
      'expected num_class >= 2',
    );
  }
  if (objective.link !== 'softmax' && spec.groups !== 1) {
    throw invalidArgument(
      'file',
      `objective ${spec.objective} with num_class ${spec.groups}`,
      'expected one output',
    );
  }
  const base = baseMargin(objective, spec.baseScore);
  const linear = 'weights' in spec ? spec : null;
  const ensemble = 'weights' in spec ? null : compileEnsemble(spec, base);
  const signature = signatureOf(objective, spec, spec.featureNames);
  const margins = (batch: InputBatch): Float32Array => {
    checkBatch(batch, spec.featureCount);
    const out = new Float32Array(batch.rows * spec.groups);
    if (linear) linearMargins(linear, base, batch.values, batch.rows, out);
    else computeMargins(ensemble!, batch.values, batch.rows, out);
    return out;
  };
  return {
    format: 'xgboost',
    signature,
    margins,
    async predict(batch: InputBatch): Promise<Prediction> {
      return transformMargins(objective, margins(batch), batch.rows, spec.groups);
    },
    async close(): Promise<void> {},
  };
}

/** Loads an XGBoost JSON model (`Booster.save_model('m.json')`; gbtree, dart or gblinear boosters). */
export const loadXgboostModel: ModelLoader = async (bytes) =>
  xgboostModelFromJson(parseXgboostJson(decode(bytes)));

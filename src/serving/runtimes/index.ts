/** The one place a model format is mapped to its runtime, so push and serving load files alike. */
import { invalidArgument } from '../../core/errors.js';
import { loadLightgbmModel } from './lightgbm.js';
import { type LoadedModel, MODEL_FORMATS, type ModelFormat, type ModelLoader } from './model.js';
import { loadOnnxModel } from './onnx.js';
import { loadXgboostModel } from './xgboost.js';

const LOADERS: Record<ModelFormat, ModelLoader> = {
  onnx: loadOnnxModel,
  xgboost: loadXgboostModel,
  lightgbm: loadLightgbmModel,
};

/** Whether value names a supported model format. */
export function isModelFormat(value: unknown): value is ModelFormat {
  return typeof value === 'string' && (MODEL_FORMATS as readonly string[]).includes(value);
}

/** Checks a format given by a caller; INVALID_ARGUMENT naming `field` lists the supported ones. */
export function parseModelFormat(value: unknown, field = 'format'): ModelFormat {
  if (isModelFormat(value)) return value;
  const shown = value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a supported format`;
  throw invalidArgument(field, shown, `send one of ${MODEL_FORMATS.join(', ')}`);
}

/** Loads a model file's bytes with the runtime of its format; a bad file fails with INVALID_ARGUMENT. */
export function loadModel(format: ModelFormat, bytes: Uint8Array): Promise<LoadedModel> {
  return LOADERS[parseModelFormat(format)](bytes);
}

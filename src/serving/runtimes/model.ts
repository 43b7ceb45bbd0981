/**
 * What every model runtime (ONNX, XGBoost JSON, LightGBM text) turns a model file into: a loaded
 * model with a tabular signature that predicts a batch of rows. The serving layer (OIP v2 over REST
 * and gRPC, hydrated predictions) speaks only this interface, so the three formats answer alike.
 *
 * Tensor conventions (clients depend on them): one input tensor `input`, shape `[-1, F]`, FP32 or
 * FP64, columns in the model's feature order, NaN = missing. Classifiers answer `probabilities`
 * `[-1, C]` and `label` `[-1]`; regressors answer `predictions` `[-1]`.
 */

export const MODEL_FORMATS = ['onnx', 'xgboost', 'lightgbm'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export type ModelTask = 'classification' | 'regression';

/** The input and outputs a tabular model declares, as OIP v2 metadata states them. */
export interface ModelSignature {
  task: ModelTask;
  /** Number of input columns F. */
  featureCount: number;
  /** Column names in order, when the model file records them (XGBoost `feature_names`, LightGBM `feature_names=`). */
  featureNames?: string[];
  /** Classifiers: number of classes C (2 for binary, answered as two probability columns). */
  classCount?: number;
  /** Classifiers: the label of each class index, when the model records them (else 0..C-1). */
  classLabels?: (number | string)[];
  /** FP64 when the library computes in double (LightGBM), FP32 where it computes in float32 (XGBoost, ONNX tree ensembles). */
  outputDatatype: 'FP32' | 'FP64';
}

/** A batch of rows: row-major values, `rows * signature.featureCount` long, NaN = missing. */
export interface InputBatch {
  rows: number;
  values: Float64Array | Float32Array;
}

/** What a model answers for a batch; arrays are row-major. */
export interface Prediction {
  /** Classifiers: `rows * classCount` probabilities. */
  probabilities?: Float64Array | Float32Array;
  /** Classifiers: the index of the most probable class per row (ties: the lowest index). */
  label?: Int32Array;
  /** Regressors: one value per row. */
  predictions?: Float64Array | Float32Array;
  /** Set by a worker pool: how long the batch waited for a thread and travelled to it and back. */
  queueSeconds?: number;
}

/** A model loaded into memory, ready to predict. */
export interface LoadedModel {
  readonly format: ModelFormat;
  readonly signature: ModelSignature;
  /** Predicts a batch; throws INVALID_ARGUMENT naming the input when its size does not fit the signature. */
  predict(batch: InputBatch): Promise<Prediction>;
  /** Frees native resources (ONNX sessions); idempotent. */
  close(): Promise<void>;
}

/**
 * Loads a model file's bytes. A corrupt or wrong-format file fails with INVALID_ARGUMENT saying what
 * was expected, so a bad push is rejected at push time, never at the first request.
 */
export type ModelLoader = (bytes: Uint8Array) => Promise<LoadedModel>;

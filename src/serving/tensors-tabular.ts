/**
 * The tabular tensor conventions clients depend on: one input `input` `[-1, F]` (FP32 or FP64;
 * other numeric types are converted), and outputs `probabilities` `[-1, C]` + `label` `[-1]` for
 * classifiers or `predictions` `[-1]` for regressors, in the signature's output datatype.
 */
import { invalidArgument, MeridianError } from '../core/errors.js';
import type { InputBatch, ModelSignature, Prediction } from './runtimes/model.js';
import { type Datatype, formatShape, type NumericArray, type Tensor } from './tensors.js';

export const INPUT_NAME = 'input';

/** A tensor's name, datatype and shape as model metadata states them (-1: any size). */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** The input a model with this signature accepts. */
export function inputMetadata(signature: ModelSignature): TensorMetadata[] {
  return [{ name: INPUT_NAME, datatype: signature.outputDatatype, shape: [-1, signature.featureCount] }];
}

/** The outputs a model with this signature answers. */
export function outputMetadata(signature: ModelSignature): TensorMetadata[] {
  if (signature.task === 'regression') {
    return [{ name: 'predictions', datatype: signature.outputDatatype, shape: [-1] }];
  }
  return [
    { name: 'probabilities', datatype: signature.outputDatatype, shape: [-1, signature.classCount ?? 2] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ];
}

/** Turns the request's tensors into the model's input batch, naming whatever does not fit. */
export function inputBatchFromTensors(signature: ModelSignature, tensors: Tensor[]): InputBatch {
  const unknown = tensors.find((t) => t.name !== INPUT_NAME);
  if (unknown) {
    throw invalidArgument(
      'inputs',
      `unknown input "${unknown.name}"`,
      `this model takes one input named "${INPUT_NAME}" of shape [-1, ${signature.featureCount}]`,
    );
  }
  const [input, ...more] = tensors;
  if (!input) throw invalidArgument('inputs', `no input "${INPUT_NAME}" given`);
  if (more.length > 0) throw invalidArgument('inputs', `input "${INPUT_NAME}" given ${tensors.length} times`);
  const features = signature.featureCount;
  if (input.shape.length !== 2) {
    throw invalidArgument(
      INPUT_NAME,
      `shape ${formatShape(input.shape)} is not two-dimensional`,
      `send shape [rows, ${features}]`,
    );
  }
  const [rows, columns] = input.shape as [number, number];
  if (columns !== features) {
    throw invalidArgument(
      INPUT_NAME,
      `${columns} features given, the model takes ${features}`,
      `send shape [rows, ${features}]`,
    );
  }
  return { rows, values: numericValues(input) };
}

function numericValues(input: Tensor): Float64Array | Float32Array {
  switch (input.datatype) {
    case 'FP32':
      return input.data as Float32Array;
    case 'FP64':
      return input.data as Float64Array;
    case 'BOOL':
    case 'BYTES':
      throw invalidArgument(
        `${INPUT_NAME}.datatype`,
        `${input.datatype} is not accepted by a tabular model`,
        'send FP32 or FP64 (NaN = missing)',
      );
    default: {
      const data = input.data as NumericArray;
      const out = new Float64Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
      return out;
    }
  }
}

/** Output names a request may ask for. */
export function outputNames(signature: ModelSignature): string[] {
  return outputMetadata(signature).map((o) => o.name);
}

/** The prediction as output tensors, only those requested (all when `requested` is empty). */
export function outputTensors(
  signature: ModelSignature,
  prediction: Prediction,
  rows: number,
  requested: string[] = [],
): Tensor[] {
  const known = outputNames(signature);
  const unknown = requested.find((name) => !known.includes(name));
  if (unknown) {
    throw invalidArgument('outputs', `unknown output "${unknown}"`, `this model answers ${known.join(', ')}`);
  }
  const wanted = requested.length > 0 ? requested : known;
  return wanted.map((name) => outputTensor(signature, prediction, rows, name));
}

function outputTensor(signature: ModelSignature, prediction: Prediction, rows: number, name: string): Tensor {
  const datatype = signature.outputDatatype;
  if (name === 'label') {
    const label = requirePart(prediction.label, name);
    return { name, datatype: 'INT64', shape: [rows], data: BigInt64Array.from(label, (v) => BigInt(v)) };
  }
  if (name === 'probabilities') {
    const probabilities = requirePart(prediction.probabilities, name);
    const classes = signature.classCount ?? probabilities.length / Math.max(rows, 1);
    return { name, datatype, shape: [rows, classes], data: asFloat(probabilities, datatype) };
  }
  return {
    name,
    datatype,
    shape: [rows],
    data: asFloat(requirePart(prediction.predictions, name), datatype),
  };
}

function requirePart<T>(part: T | undefined, name: string): T {
  if (part === undefined) {
    throw new MeridianError(
      'INTERNAL',
      `the model did not produce "${name}" although its signature declares it`,
    );
  }
  return part;
}

function asFloat(
  values: Float64Array | Float32Array,
  datatype: 'FP32' | 'FP64',
): Float64Array | Float32Array {
  if (datatype === 'FP64') return values instanceof Float64Array ? values : Float64Array.from(values);
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

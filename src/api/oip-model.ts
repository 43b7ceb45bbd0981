/**
 * What the OIP v2 REST and gRPC surfaces share: server and model metadata, readiness, version
 * parsing, and inference from decoded tensors to output tensors, so both answer alike.
 */
import { createRequire } from 'node:module';
import { invalidArgument } from '../core/errors.js';
import type { ModelResolver, ServedModel } from '../serving/resolver.js';
import type { Prediction } from '../serving/runtimes/model.js';
import type { Tensor } from '../serving/tensors.js';
import {
  inputBatchFromTensors,
  inputMetadata,
  outputMetadata,
  outputNames,
  outputTensors,
  type TensorMetadata,
} from '../serving/tensors-tabular.js';

export interface OipDeps {
  resolver: ModelResolver;
}

export const SERVER_NAME = 'meridian';
export const EXTENSIONS = ['binary_tensor_data'];

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Server metadata: name, version and the protocol extensions Meridian speaks. */
export function serverMetadata(): { name: string; version: string; extensions: string[] } {
  return { name: SERVER_NAME, version: packageJson.version, extensions: EXTENSIONS };
}

/** Model metadata as OIP v2 states it. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** The metadata of a served model version. */
export function modelMetadata(served: ServedModel): ModelMetadata {
  const signature = served.model.signature;
  return {
    name: served.name,
    versions: [String(served.version)],
    platform: served.model.format,
    inputs: inputMetadata(signature),
    outputs: outputMetadata(signature),
  };
}

/** A version as a path segment or gRPC string: empty means the production version. */
export function parseVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw invalidArgument(
      'version',
      `${JSON.stringify(value)} is not a version number`,
      'use a positive integer',
    );
  }
  return Number(value);
}

/** Whether every model answering by default is loaded and warmed up. */
export async function serverReady(resolver: ModelResolver): Promise<boolean> {
  const names = await resolver.served();
  const ready = await Promise.all(names.map((name) => resolver.isReady(name)));
  return ready.every(Boolean);
}

/** Checks a model name given by a client. */
export function requireModelName(value: string | undefined, field: string): string {
  if (!value) throw invalidArgument(field, 'missing', 'name the model to use');
  return value;
}

/** The outcome of one inference. */
export interface InferResult {
  served: ServedModel;
  outputs: Tensor[];
}

/** A request's decoded inputs and the outputs it asks for (empty: all). */
export interface DecodedRequest {
  inputs: Tensor[];
  outputs: string[];
}

/**
 * Runs one inference: resolves the model first (so an unknown model is named before any tensor
 * problem), then decodes and checks the request, then predicts.
 */
export async function infer<R extends DecodedRequest>(
  resolver: ModelResolver,
  name: string,
  version: number | undefined,
  decode: () => R,
): Promise<InferResult & { request: R }> {
  const served = await resolver.resolve(name, version);
  const request = decode();
  const signature = served.model.signature;
  const known = outputNames(signature);
  const unknown = request.outputs.find((output) => !known.includes(output));
  if (unknown)
    throw invalidArgument('outputs', `unknown output "${unknown}"`, `this model answers ${known.join(', ')}`);
  const batch = inputBatchFromTensors(signature, request.inputs);
  const prediction = batch.rows === 0 ? emptyPrediction() : await served.model.predict(batch);
  return { served, request, outputs: outputTensors(signature, prediction, batch.rows, request.outputs) };
}

function emptyPrediction(): Prediction {
  return { probabilities: new Float64Array(0), label: new Int32Array(0), predictions: new Float64Array(0) };
}

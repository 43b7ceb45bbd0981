/**
 * What the OIP v2 REST and gRPC surfaces share: server and model metadata, readiness, version
 * parsing, and inference from decoded tensors to output tensors, so both answer alike.
 */
import { createRequire } from 'node:module';
import { invalidArgument } from '../core/errors.js';
import { newUuid } from '../core/ids.js';
import type {
  InferenceObservation,
  InferenceObserver,
  InferenceProtocol,
} from '../serving/inference-observation.js';
import type { ModelResolver, ServedModel } from '../serving/resolver.js';
import type { InputBatch, Prediction } from '../serving/runtimes/model.js';
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
  /** Told about every inference once its model resolved (latency stats, prediction log). */
  observer?: InferenceObserver;
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
  /** The client's request id; one is made up when absent. */
  id?: string;
  inputs: Tensor[];
  outputs: string[];
}

/**
 * Runs one inference: resolves the model first (so an unknown model is named before any tensor
 * problem), then decodes and checks the request, then predicts, telling `deps.observer` the outcome.
 */
export async function infer<R extends DecodedRequest>(
  deps: OipDeps,
  protocol: InferenceProtocol,
  name: string,
  version: number | undefined,
  decode: () => R,
): Promise<InferResult & { request: R }> {
  const time = Date.now();
  const started = performance.now();
  const served = await deps.resolver.resolve(name, version);
  const seconds = () => (performance.now() - started) / 1000;
  const base = { model: served.name, version: served.version, protocol, time };
  let request: R | undefined;
  let done: Computed;
  try {
    request = decode();
    done = await compute(served, request);
  } catch (err) {
    tell(deps, { ...base, requestId: request?.id || newUuid(), requestSeconds: seconds(), ok: false });
    throw err;
  }
  const signature = served.model.signature;
  const featureNames = served.inputs ?? signature.featureNames;
  tell(deps, {
    ...base,
    requestId: request.id || newUuid(),
    requestSeconds: seconds(),
    computeSeconds: done.computeSeconds,
    ok: true,
    batch: done.batch,
    prediction: done.prediction,
    ...(featureNames ? { featureNames } : {}),
    ...(signature.classLabels ? { classLabels: signature.classLabels } : {}),
  });
  return { served, request, outputs: done.outputs };
}

interface Computed {
  batch: InputBatch;
  prediction: Prediction;
  outputs: Tensor[];
  computeSeconds: number;
}

/** Checks the requested outputs and inputs against the signature, then predicts. */
async function compute(served: ServedModel, request: DecodedRequest): Promise<Computed> {
  const signature = served.model.signature;
  const known = outputNames(signature);
  const unknown = request.outputs.find((output) => !known.includes(output));
  if (unknown)
    throw invalidArgument('outputs', `unknown output "${unknown}"`, `this model answers ${known.join(', ')}`);
  const batch = inputBatchFromTensors(signature, request.inputs);
  const computeStarted = performance.now();
  const prediction = batch.rows === 0 ? emptyPrediction() : await served.model.predict(batch);
  const computeSeconds = (performance.now() - computeStarted) / 1000;
  const outputs = outputTensors(signature, prediction, batch.rows, request.outputs);
  return { batch, prediction, outputs, computeSeconds };
}

/** Reports to the observer; its failure must never fail or change the request's answer. */
function tell(deps: OipDeps, observation: InferenceObservation): void {
  try {
    deps.observer?.observe(observation);
  } catch {
    // The request already has its answer; telemetry is best effort.
  }
}

function emptyPrediction(): Prediction {
  return { probabilities: new Float64Array(0), label: new Int32Array(0), predictions: new Float64Array(0) };
}

/**
 * The Open Inference Protocol v2 over gRPC: `inference.GRPCInferenceService` from
 * `proto/inference/grpc_predict_v2.proto`, answering ModelInfer with `raw_output_contents`.
 * Errors carry the gRPC status of the one table in core/errors.
 */
import type * as grpc from '@grpc/grpc-js';
import { tensorsFromGrpc, tensorsToGrpc, type WireInput } from '../serving/tensors-grpc.js';
import { loadProto, toGrpcError } from './grpc.js';
import {
  infer,
  modelMetadata,
  type OipDeps,
  parseVersion,
  requireModelName,
  serverMetadata,
  serverReady,
} from './oip-model.js';

export const INFERENCE_PROTO = 'inference/grpc_predict_v2.proto';

let loaded: grpc.ServiceClientConstructor | undefined;

/** The GRPCInferenceService client class (its `.service` is the server's definition), loaded once. */
export function inferenceServiceClass(): grpc.ServiceClientConstructor {
  if (!loaded) {
    const pkg = loadProto(INFERENCE_PROTO) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    loaded = pkg.inference.GRPCInferenceService;
  }
  return loaded;
}

interface ModelRequest {
  name?: string;
  version?: string;
}

interface InferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  inputs?: WireInput[];
  outputs?: { name?: string }[];
  raw_input_contents?: Uint8Array[];
}

type Unary<Req> = (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

/** Answers a unary call from an async function of its request, mapping errors through the one table. */
function unary<Req>(work: (request: Req) => Promise<unknown>): Unary<Req> {
  return (call, callback) => {
    // A synchronous throw inside work still becomes a rejected promise, never a crashed server.
    Promise.resolve()
      .then(() => work(call.request))
      .then(
        (value) => callback(null, value),
        (err: unknown) => callback(toGrpcError(err)),
      );
  };
}

/** Adds GRPCInferenceService to a target's gRPC server. */
export function registerOipGrpc(server: grpc.Server, deps: OipDeps): void {
  const { resolver } = deps;
  server.addService(inferenceServiceClass().service, {
    serverLive: unary(async () => ({ live: true })),
    serverReady: unary(async () => ({ ready: await serverReady(resolver) })),
    modelReady: unary(async (request: ModelRequest) => ({
      ready: await resolver.isReady(requireModelName(request.name, 'name'), parseVersion(request.version)),
    })),
    serverMetadata: unary(async () => serverMetadata()),
    modelMetadata: unary(async (request: ModelRequest) =>
      modelMetadata(
        await resolver.resolve(requireModelName(request.name, 'name'), parseVersion(request.version)),
      ),
    ),
    modelInfer: unary(async (request: InferRequest) => modelInfer(deps, request)),
  });
}

async function modelInfer(deps: OipDeps, request: InferRequest): Promise<unknown> {
  const name = requireModelName(request.model_name, 'model_name');
  const result = await infer(deps, 'grpc', name, parseVersion(request.model_version), () => ({
    ...(request.id ? { id: request.id } : {}),
    inputs: tensorsFromGrpc(request.inputs ?? [], request.raw_input_contents ?? []),
    outputs: (request.outputs ?? []).map((o) => o.name ?? ''),
  }));
  return {
    model_name: result.served.name,
    model_version: String(result.served.version),
    id: request.id ?? '',
    ...tensorsToGrpc(result.outputs),
  };
}

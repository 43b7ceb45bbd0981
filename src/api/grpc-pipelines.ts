/**
 * The orchestrator's gRPC service, `meridian.pipelines.v1.Pipelines`: `TriggerJob(job_type, params)`
 * with the semantics of `POST /v1/pipelines/{name}/runs`, and `GetRun`.
 */
import type * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../core/errors.js';
import type { Orchestrator, RunView } from '../pipelines/types.js';
import { loadProto, toGrpcError } from './grpc.js';
import { jsonToStruct, structToJson, type WireStruct } from './grpc-struct.js';

export const PIPELINES_PROTO = 'meridian/pipelines/v1/pipelines.proto';

let loaded: grpc.ServiceClientConstructor | undefined;

/** The Pipelines client class (its `.service` is the server's service definition), loaded once. */
export function pipelinesClass(): grpc.ServiceClientConstructor {
  if (!loaded) {
    const pkg = loadProto(PIPELINES_PROTO) as unknown as {
      meridian: { pipelines: { v1: { Pipelines: grpc.ServiceClientConstructor } } };
    };
    loaded = pkg.meridian.pipelines.v1.Pipelines;
  }
  return loaded;
}

interface TriggerJobRequest {
  job_type?: string;
  params?: WireStruct | null;
  logical_date?: string;
  force?: boolean;
}

function logicalDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
    throw invalidArgument(
      'logical_date',
      `${JSON.stringify(text)} is not an ISO 8601 time`,
      'send e.g. 2026-01-01T00:00:00Z, or leave it empty for now',
    );
  }
  return date;
}

async function triggerJob(orchestrator: Orchestrator, request: TriggerJobRequest) {
  if (!request.job_type) throw invalidArgument('job_type', 'is empty', 'send the name of a pipeline');
  const date = logicalDate(request.logical_date);
  const result = await orchestrator.trigger(request.job_type, {
    params: structToJson(request.params, 'params'),
    ...(date ? { logicalDate: date } : {}),
    force: request.force === true,
    trigger: { kind: 'grpc' },
  });
  return { run_id: result.runId, status: result.status, created: result.created };
}

function runAnswer(run: RunView) {
  return {
    run_id: run.runId,
    pipeline: run.pipeline,
    status: run.status,
    logical_date: run.logicalDate,
    error: run.error ?? '',
    steps: run.steps.map((s) => ({
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      error: s.error ?? '',
    })),
    params: jsonToStruct(run.params),
  };
}

function answer<T>(work: () => Promise<T>, callback: grpc.sendUnaryData<T>): void {
  Promise.resolve()
    .then(work)
    .then(
      (value) => callback(null, value),
      (err: unknown) => callback(toGrpcError(err)),
    );
}

/** Adds the Pipelines service to a target's gRPC server. */
export function registerPipelinesGrpc(server: grpc.Server, orchestrator: Orchestrator): void {
  server.addService(pipelinesClass().service, {
    triggerJob: (
      call: grpc.ServerUnaryCall<TriggerJobRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => answer(() => triggerJob(orchestrator, call.request), callback),
    getRun: (
      call: grpc.ServerUnaryCall<{ run_id?: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => answer(() => orchestrator.run(call.request.run_id ?? '').then(runAnswer), callback),
  });
}

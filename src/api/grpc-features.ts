/**
 * The feature store's gRPC service, `meridian.features.v1.FeatureStore`: push, upload and online
 * read, each through the same code as its REST route so both surfaces answer alike.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { type Catalog, resolveFeatureRefs } from '../features/catalog.js';
import type { FeatureType } from '../features/definitions.js';
import type { Ingestor } from '../features/ingest/push.js';
import type { TransformPool } from '../features/ingest/transform-pool.js';
import type { IngestQuality } from '../features/quality/hooks.js';
import { getOnlineFeatures, type OnlineFeaturesResponse } from '../features/retrieval/online.js';
import type { OfflineStore } from '../stores/offline/port.js';
import type { OnlineStore } from '../stores/online/port.js';
import { toGrpcError } from './grpc.js';
import { featureStoreClass } from './grpc-proto.js';
import { type PushEventsRequest, pushEventStream } from './grpc-push.js';
import { type UploadFileRequest, uploadFileStream } from './grpc-upload.js';
import { msToTimestamp, typedValue, valueToJson, type WireValue } from './grpc-values.js';
import { sharedFileLoader } from './routes/files.js';

export interface FeatureGrpcDeps {
  ingestor: Ingestor;
  catalog: Catalog;
  offline: OfflineStore;
  online: OnlineStore;
  logger?: Logger;
  clock?: Clock;
  /** The feature store's transform threads, for files whose views have TypeScript transforms. */
  transforms?: TransformPool;
  /** Largest uploaded file, in bytes (default the REST route's, 1 GiB). */
  maxFileBytes?: number;
  /** Where uploads are saved while they load (default the OS temp directory). */
  tmpDir?: string;
  /** Told about an uploaded file's bad values and the views it wrote. */
  quality?: IngestQuality;
  /** Pushes of one PushEvents call in flight at once. */
  maxPushesInFlight?: number;
}

interface OnlineRequest {
  kind?: 'features' | 'feature_service';
  features?: { val?: string[] };
  feature_service?: string;
  entities?: Record<string, { val?: WireValue[] }>;
}

/** Answers a unary or client-streaming call from a promise, mapping errors through the one table. */
function answer<T>(work: Promise<T>, callback: grpc.sendUnaryData<T>): void {
  work.then(
    (value) => callback(null, value),
    (err: unknown) => callback(toGrpcError(err)),
  );
}

/** Adds the FeatureStore service to a target's gRPC server. */
export function registerFeatureStoreGrpc(server: grpc.Server, deps: FeatureGrpcDeps): void {
  const loader = sharedFileLoader({
    offline: deps.offline,
    online: deps.online,
    catalog: deps.catalog,
    ...(deps.transforms ? { transforms: deps.transforms } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.quality ? { quality: deps.quality } : {}),
  });
  const upload = {
    loader,
    ...(deps.maxFileBytes !== undefined ? { maxFileBytes: deps.maxFileBytes } : {}),
    ...(deps.tmpDir !== undefined ? { tmpDir: deps.tmpDir } : {}),
  };
  const onlineOptions = deps.clock ? { clock: deps.clock } : {};
  server.addService(featureStoreClass().service, {
    pushEvents: (
      call: grpc.ServerReadableStream<PushEventsRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => answer(pushEventStream(deps.ingestor, call, deps.maxPushesInFlight), callback),
    uploadFile: (
      call: grpc.ServerReadableStream<UploadFileRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => answer(uploadFileStream(upload, call), callback),
    getOnlineFeatures: (
      call: grpc.ServerUnaryCall<OnlineRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) =>
      answer(
        getOnlineFeatures(deps.online, deps.catalog, onlineBody(call.request), onlineOptions).then(
          (response) => onlineAnswer(deps.catalog, response),
        ),
        callback,
      ),
  });
}

/** The REST body of an online read: the same refs or service, entity values as REST's JSON. */
function onlineBody(request: OnlineRequest): Record<string, unknown> {
  const entities: Record<string, unknown[]> = {};
  for (const [key, values] of Object.entries(request.entities ?? {})) {
    entities[key] = (values.val ?? []).map(valueToJson);
  }
  if (request.kind === 'feature_service') return { featureService: request.feature_service, entities };
  return { features: request.features?.val, entities };
}

/** Each answer column's type: join keys from the views that read them, features from their views. */
function columnTypes(catalog: Catalog, names: readonly string[]): FeatureType[] {
  const types = new Map<string, FeatureType>();
  for (const { view, feature, ref } of resolveFeatureRefs(
    catalog,
    names.filter((n) => n.includes(':')),
  )) {
    types.set(ref, view.features[feature]!);
    for (const key of view.keys) if (!types.has(key.name)) types.set(key.name, key.type);
  }
  return names.map((name) => types.get(name) ?? 'string');
}

/** The REST answer in Feast's protobuf shape: typed Values, enum statuses, Timestamps. */
function onlineAnswer(catalog: Catalog, response: OnlineFeaturesResponse): unknown {
  const names = response.metadata.feature_names;
  const types = columnTypes(catalog, names);
  return {
    metadata: { feature_names: { val: names } },
    results: response.results.map((column, i) => ({
      values: column.values.map((value) => typedValue(types[i]!, value)),
      statuses: column.statuses,
      event_timestamps: column.event_timestamps.map((time) => msToTimestamp(Date.parse(time))),
    })),
  };
}

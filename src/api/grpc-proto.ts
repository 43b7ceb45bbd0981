/**
 * The generated FeatureStore service of `proto/meridian/features/v1/features.proto`, shared by the
 * server, the SDK client and tests; kept apart from the server code so a client loads only this.
 */
import type * as grpc from '@grpc/grpc-js';
import { loadProto } from './grpc.js';

export const FEATURES_PROTO = 'meridian/features/v1/features.proto';

let loaded: grpc.ServiceClientConstructor | undefined;

/** The FeatureStore client class (its `.service` is the server's service definition), loaded once. */
export function featureStoreClass(): grpc.ServiceClientConstructor {
  if (!loaded) {
    const pkg = loadProto(FEATURES_PROTO) as unknown as {
      meridian: { features: { v1: { FeatureStore: grpc.ServiceClientConstructor } } };
    };
    loaded = pkg.meridian.features.v1.FeatureStore;
  }
  return loaded;
}

/**
 * The `features` target: the feature store with its REST routes and gRPC service, and the sink that
 * appends the prediction log to the offline store (the offline store's owner writes it).
 */
import { registerFeatureStoreGrpc } from '../api/grpc-features.js';
import { registerFeatureRoutes } from '../api/routes/features.js';
import { registerMaterializeRoutes } from '../api/routes/materialize.js';
import { type FeatureStore, startFeatureStore } from '../features/service.js';
import { PredictionSink } from '../serving/prediction-sink.js';
import type { RunningTarget, TargetContext } from './target.js';

export interface FeaturesTarget extends RunningTarget {
  features: FeatureStore;
}

/** Starts the feature store and registers its APIs; on failure closes what it started. */
export async function startFeaturesTarget(ctx: TargetContext): Promise<FeaturesTarget> {
  const { config, stores, logger, metrics, http, grpc } = ctx;
  const features = await startFeatureStore(stores, logger, {
    transformThreads: config.features.transformThreads,
    consumeEvents: config.features.consumeEvents && config.eventStream.startsWith('nats'),
    metrics,
  });
  try {
    registerFeatureRoutes(http, features, stores);
    if (stores.offline && stores.online) {
      const { offline, online } = stores;
      registerMaterializeRoutes(http, { offline, online, catalog: features.registry });
      registerFeatureStoreGrpc(grpc, {
        ingestor: features.ingestor,
        catalog: features.registry,
        transforms: features.transforms,
        offline: stores.offline,
        online: stores.online,
        logger: logger.child({ service: 'features' }),
        quality: features.quality,
      });
    }
    const sink =
      stores.stream && stores.offline
        ? await PredictionSink.start(stores.stream, stores.offline, logger)
        : undefined;
    return {
      features,
      async close() {
        await sink?.close();
        await features.close();
      },
    };
  } catch (err) {
    await features.close().catch(() => undefined);
    throw err;
  }
}

import type { FastifyInstance } from 'fastify';
import type { FeatureStore } from '../../features/service.js';
import type { Stores } from '../../stores/index.js';
import { type FileRouteDeps, registerFileRoutes } from './files.js';
import { registerHistoricalRoutes } from './historical.js';
import { registerIngestRoutes } from './ingest.js';
import { registerLineageRoutes } from './lineage.js';
import { registerOnlineRoutes } from './online.js';
import { registerRegistryRoutes } from './registry.js';

/** Every feature store route: apply/list/describe, push, files, lineage, online and historical reads. */
export function registerFeatureRoutes(app: FastifyInstance, features: FeatureStore, stores: Stores): void {
  registerRegistryRoutes(app, { registry: features.registry });
  registerIngestRoutes(app, { ingestor: features.ingestor });
  if (stores.offline && stores.online) {
    const files: FileRouteDeps = {
      offline: stores.offline,
      online: stores.online,
      catalog: features.registry,
      transforms: features.transforms,
      quality: features.quality,
    };
    registerFileRoutes(app, files);
    registerLineageRoutes(app, { offline: stores.offline, catalog: features.registry });
  }
  if (stores.online) registerOnlineRoutes(app, { online: stores.online, catalog: features.registry });
  if (stores.offline) registerHistoricalRoutes(app, { offline: stores.offline, catalog: features.registry });
}

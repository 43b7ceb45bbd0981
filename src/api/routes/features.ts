import type { FastifyInstance } from 'fastify';
import type { FeatureStore } from '../../features/service.js';
import type { Stores } from '../../stores/index.js';
import { registerFileRoutes } from './files.js';
import { registerHistoricalRoutes } from './historical.js';
import { registerIngestRoutes } from './ingest.js';
import { registerOnlineRoutes } from './online.js';
import { registerRegistryRoutes } from './registry.js';

/** Every feature store route: apply/list/describe, push, online and historical reads. */
export function registerFeatureRoutes(app: FastifyInstance, features: FeatureStore, stores: Stores): void {
  registerRegistryRoutes(app, { registry: features.registry });
  registerIngestRoutes(app, { ingestor: features.ingestor });
  if (stores.offline && stores.online)
    registerFileRoutes(app, { offline: stores.offline, online: stores.online, catalog: features.registry });
  if (stores.online) registerOnlineRoutes(app, { online: stores.online, catalog: features.registry });
  if (stores.offline) registerHistoricalRoutes(app, { offline: stores.offline, catalog: features.registry });
}

/**
 * Online feature reads over REST, in Feast's feature-server shape, at Meridian's path
 * `POST /v1/features/online` and at Feast's `POST /get-online-features`, so Feast HTTP clients work
 * unchanged. Deps: the online store and the catalog (the registry), plus an optional clock for TTLs.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Catalog } from '../../features/catalog.js';
import { getOnlineFeatures } from '../../features/retrieval/online.js';
import type { OnlineStore } from '../../stores/online/port.js';

export interface OnlineRouteDeps {
  online: OnlineStore;
  catalog: Catalog;
  clock?: Clock;
}

/** Registers the online read route at both paths. */
export function registerOnlineRoutes(app: FastifyInstance, deps: OnlineRouteDeps): void {
  const options = deps.clock ? { clock: deps.clock } : {};
  const handler = async (request: { body: unknown }) =>
    getOnlineFeatures(deps.online, deps.catalog, request.body, options);
  app.post('/v1/features/online', handler);
  app.post('/get-online-features', handler);
}

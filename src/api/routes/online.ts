/**
 * Online feature reads over REST, in Feast's feature-server shape, at Meridian's path
 * `POST /v1/features/online` and at Feast's `POST /get-online-features`, so Feast HTTP clients work
 * unchanged. Deps: the online store and the catalog (the registry), plus an optional clock for TTLs.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Catalog } from '../../features/catalog.js';
import { getOnlineFeaturesJson } from '../../features/retrieval/online.js';
import type { OnlineStore } from '../../stores/online/port.js';

export interface OnlineRouteDeps {
  online: OnlineStore;
  catalog: Catalog;
  clock?: Clock;
}

/** Registers the online read route at both paths. */
export function registerOnlineRoutes(app: FastifyInstance, deps: OnlineRouteDeps): void {
  const options = deps.clock ? { clock: deps.clock } : {};
  // The answer is written as JSON text directly (the same bytes JSON.stringify would give), which
  // spares building and serialising an object of 3 x entities x columns array slots.
  const handler = async (request: { body: unknown }, reply: FastifyReply) => {
    const json = await getOnlineFeaturesJson(deps.online, deps.catalog, request.body, options);
    return reply.type('application/json; charset=utf-8').send(json);
  };
  app.post('/v1/features/online', handler);
  app.post('/get-online-features', handler);
}

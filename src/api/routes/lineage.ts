/**
 * `GET /v1/feature-views/{name}/lineage?limit=N`: the newest writes of a view, newest first, each
 * with its transform version, inputs and their event-time ranges, rows written, run id and path.
 */
import type { FastifyInstance } from 'fastify';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { Catalog } from '../../features/catalog.js';
import { readLineage } from '../../features/ingest/lineage.js';
import type { OfflineStore } from '../../stores/offline/port.js';

export interface LineageRouteDeps {
  offline: OfflineStore;
  catalog: Catalog;
}

const DEFAULT_LIMIT = 100;

/** Registers the lineage route of feature views. */
export function registerLineageRoutes(app: FastifyInstance, deps: LineageRouteDeps): void {
  app.get<{ Params: { name: string }; Querystring: Record<string, string | undefined> }>(
    '/v1/feature-views/:name/lineage',
    async (request) => {
      const { name } = request.params;
      const limit = parseLimit(request.query.limit);
      if (!deps.catalog.view(name)) {
        throw new MeridianError(
          'NOT_FOUND',
          `no feature view "${name}" in the registry; list them with GET /v1/feature-views`,
          { field: 'name', name },
        );
      }
      return { view: name, lineage: await readLineage(deps.offline, name, limit) };
    },
  );
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= 1000))
    throw invalidArgument(
      'limit',
      `"${value}" is not a whole number from 1 to 1000`,
      `send limit=1..1000 or leave it out for ${DEFAULT_LIMIT}`,
    );
  return limit;
}

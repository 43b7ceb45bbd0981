/**
 * The feature registry over REST: `POST /v1/apply` (`?dryRun=true` for the plan only) and
 * `GET /v1/<kind>` / `GET /v1/<kind>/{name}` for entities, sources, feature views and services.
 */
import type { FastifyInstance } from 'fastify';
import { invalidArgument } from '../../core/errors.js';
import { REGISTRY_KINDS } from '../../features/plan.js';
import type { FeatureRegistry } from '../../features/registry.js';

export interface RegistryRouteDeps {
  registry: FeatureRegistry;
}

/** The payload key each kind is listed under, the same as in `POST /v1/apply`. */
const LIST_KEYS = {
  entities: 'entities',
  sources: 'sources',
  'feature-views': 'featureViews',
  'feature-services': 'featureServices',
} as const;

/** Registers apply, list and describe. */
export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  app.post<{ Querystring: Record<string, string | undefined> }>('/v1/apply', async (request) =>
    deps.registry.apply(request.body, { dryRun: parseDryRun(request.query.dryRun) }),
  );
  for (const kind of REGISTRY_KINDS) {
    app.get(`/v1/${kind}`, async () => ({ [LIST_KEYS[kind]]: deps.registry.list(kind) }));
    app.get<{ Params: { name: string } }>(`/v1/${kind}/:name`, async (request) =>
      deps.registry.describe(kind, request.params.name),
    );
  }
}

function parseDryRun(value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === '' || value === 'true' || value === '1') return true;
  throw invalidArgument('dryRun', `"${value}" is not a boolean`, 'send ?dryRun=true or leave it out');
}

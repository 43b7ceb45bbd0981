/**
 * `GET /v1/models/{name}/stats`: request and error counts and p50/p95/p99 latency per version over
 * the recent window, from the serving process's HDR histograms (this replica's requests only).
 */
import type { FastifyInstance } from 'fastify';
import type { LatencyStats } from '../../serving/latency.js';
import type { ModelRegistry } from '../../serving/registry.js';

export interface ModelStatsRouteDeps {
  latency: LatencyStats;
  /** Names an unknown model with NOT_FOUND rather than answering empty stats for a typo. */
  registry: Pick<ModelRegistry, 'describe'>;
}

/** Registers the model stats route. */
export function registerModelStatsRoutes(app: FastifyInstance, deps: ModelStatsRouteDeps): void {
  app.get<{ Params: { name: string } }>('/v1/models/:name/stats', async (request) => {
    const { name } = request.params;
    await deps.registry.describe(name);
    return deps.latency.stats(name);
  });
}

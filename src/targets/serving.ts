/**
 * The `serving` target: the model registry and resolver with their warm worker pools, the model
 * routes, OIP v2 over REST and gRPC, latency statistics and the prediction log.
 */
import { registerOipGrpc } from '../api/oip-grpc.js';
import { registerOipRoutes } from '../api/oip-rest.js';
import { registerModelStatsRoutes } from '../api/routes/model-stats.js';
import { registerModelRoutes } from '../api/routes/models.js';
import { type InferenceObserver, observeAll } from '../serving/inference-observation.js';
import { LatencyStats } from '../serving/latency.js';
import { PredictionLog } from '../serving/prediction-log.js';
import { type ModelServing, startModelServing, workerOptions } from '../serving/service.js';
import type { RunningTarget, TargetContext } from './target.js';

export interface ServingTarget extends RunningTarget {
  serving: ModelServing;
  /** Where every inference is recorded: latency statistics and the prediction log. */
  observer: InferenceObserver;
  latency: LatencyStats;
}

/** Starts the model server and registers its APIs; on failure closes what it started. */
export async function startServingTarget(ctx: TargetContext): Promise<ServingTarget> {
  const { config, stores, logger, metrics, http, grpc } = ctx;
  const serving = await startModelServing(stores, logger, { workers: workerOptions(config.serving) });
  let log: PredictionLog | undefined;
  try {
    log = stores.stream ? await PredictionLog.start(stores.stream, metrics, logger) : undefined;
    const latency = new LatencyStats(metrics);
    const observer = observeAll(latency, log);
    registerModelRoutes(http, { registry: serving.registry });
    registerModelStatsRoutes(http, { latency, registry: serving.registry });
    registerOipRoutes(http, { resolver: serving.resolver, observer });
    registerOipGrpc(grpc, { resolver: serving.resolver, observer });
    return {
      serving,
      observer,
      latency,
      async close() {
        // The log flushes to the stream first, so the features target's sink still drains it.
        await log?.close();
        await serving.close();
      },
    };
  } catch (err) {
    await log?.close().catch(() => undefined);
    await serving.close().catch(() => undefined);
    throw err;
  }
}

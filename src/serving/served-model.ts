/**
 * Turns a registered version into a served model: reads its file (hash checked), loads it with its
 * runtime and runs one warm-up inference, so the first real request never pays for lazy setup.
 */
import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ModelVersion } from './model-version.js';
import { type PoolOptions, startModelPool } from './pool/model-pool.js';
import { pooledModel } from './pool/pooled-model.js';
import type { ModelRegistry } from './registry.js';
import type { ServedModel } from './resolver.js';
import { loadModel } from './runtimes/index.js';
import type { LoadedModel, ModelFormat } from './runtimes/model.js';

/** How a model file becomes a loaded model; `loadModel` unless a test wraps it. */
export type ModelLoadFn = (format: ModelFormat, bytes: Uint8Array) => Promise<LoadedModel>;

/** Where a version's batches run: on a warm worker pool from `poolRows` rows up, or only inline. */
export interface WorkerPlacement extends PoolOptions {
  poolRows: number;
  logger: Logger;
}

/**
 * Reads, loads and warms up one version, then starts its worker pool (when `workers` is given) and
 * waits until the pool's threads are warm too; whatever was loaded is closed again on failure.
 */
export async function loadServedModel(
  registry: ModelRegistry,
  version: ModelVersion,
  load: ModelLoadFn = loadModel,
  workers?: WorkerPlacement,
): Promise<ServedModel> {
  const bytes = await registry.readArtifact(version);
  let model = await load(version.format, bytes);
  try {
    const warmUpRow = await warmUp(model, version);
    if (workers && workers.maxWorkers > 0) {
      const logger = workers.logger.child({ model: version.name, version: version.version });
      const pool = await startModelPool({ format: version.format, bytes, warmUpRow }, workers, logger);
      model = pooledModel(model, pool, workers.poolRows);
    }
  } catch (err) {
    await model.close().catch(() => undefined);
    throw err;
  }
  const served: ServedModel = { name: version.name, version: version.version, model };
  const inputs = version.inputs ?? model.signature.featureNames;
  if (inputs) served.inputs = inputs;
  if (version.featureService) served.featureService = version.featureService;
  return served;
}

/** One inference on a row of NaNs (all missing), or of zeros for a model that refuses NaN; answers the row used. */
async function warmUp(model: LoadedModel, version: ModelVersion): Promise<number[]> {
  const columns = model.signature.featureCount;
  let failure: unknown;
  for (const fill of [Number.NaN, 0]) {
    try {
      const row = new Array<number>(columns).fill(fill);
      await model.predict({ rows: 1, values: Float64Array.from(row) });
      return row;
    } catch (err) {
      failure = err;
    }
  }
  const reason = failure instanceof Error ? failure.message : String(failure);
  throw new MeridianError(
    'FAILED_PRECONDITION',
    `model "${version.name}" version ${version.version} failed its warm-up inference (${reason}); push a model its runtime can evaluate`,
    { name: version.name, version: version.version },
    { cause: failure },
  );
}

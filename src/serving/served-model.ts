/**
 * Turns a registered version into a served model: reads its file (hash checked), loads it with its
 * runtime and runs one warm-up inference, so the first real request never pays for lazy setup.
 */
import { MeridianError } from '../core/errors.js';
import type { ModelVersion } from './model-version.js';
import type { ModelRegistry } from './registry.js';
import type { ServedModel } from './resolver.js';
import { loadModel } from './runtimes/index.js';
import type { LoadedModel, ModelFormat } from './runtimes/model.js';

/** How a model file becomes a loaded model; `loadModel` unless a test wraps it. */
export type ModelLoadFn = (format: ModelFormat, bytes: Uint8Array) => Promise<LoadedModel>;

/** Reads, loads and warms up one version; the loaded model is closed again when warm-up fails. */
export async function loadServedModel(
  registry: ModelRegistry,
  version: ModelVersion,
  load: ModelLoadFn = loadModel,
): Promise<ServedModel> {
  const bytes = await registry.readArtifact(version);
  const model = await load(version.format, bytes);
  try {
    await warmUp(model, version);
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

/** One inference on a row of NaNs (all missing), or of zeros for a model that refuses NaN. */
async function warmUp(model: LoadedModel, version: ModelVersion): Promise<void> {
  const columns = model.signature.featureCount;
  let failure: unknown;
  for (const fill of [Number.NaN, 0]) {
    try {
      await model.predict({ rows: 1, values: new Float64Array(columns).fill(fill) });
      return;
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

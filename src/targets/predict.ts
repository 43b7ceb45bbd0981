/**
 * Hydrating prediction, wherever the model server runs beside an online store: on `all` over the
 * feature store's own registry; on `serving` alone over the shared one, reloaded as other processes
 * apply definitions.
 */
import { registerPredictRoutes } from '../api/routes/predict.js';
import { FeatureRegistry } from '../features/registry.js';
import type { FeaturesTarget } from './features.js';
import type { ServingTarget } from './serving.js';
import type { TargetContext } from './target.js';

/** Registers `POST /v1/models/{name}/predict` when this process serves models and has an online store. */
export async function registerHydratedPredict(
  ctx: TargetContext,
  serving: ServingTarget | undefined,
  features: FeaturesTarget | undefined,
): Promise<void> {
  const { stores, http } = ctx;
  if (!serving || !stores.online || !stores.state) return;
  const deps = {
    resolver: serving.serving.resolver,
    registry: serving.serving.registry,
    online: stores.online,
    observer: serving.observer,
  };
  if (features) {
    registerPredictRoutes(http, { ...deps, catalog: features.features.registry });
    return;
  }
  const catalog = await FeatureRegistry.open(stores.state);
  registerPredictRoutes(http, { ...deps, catalog, refreshCatalog: () => catalog.refresh() });
}

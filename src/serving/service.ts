/** The model server of one process: its registry and the resolver the inference APIs answer through. */
import type { Config } from '../core/config.js';
import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Stores } from '../stores/index.js';
import { ModelRegistry } from './registry.js';
import { RegistryModelResolver, type ResolverOptions } from './resolver-impl.js';

export interface ModelServing {
  registry: ModelRegistry;
  resolver: RegistryModelResolver;
  /** Stops polling the registry and frees every loaded model; the platform closes the stores afterwards. */
  close(): Promise<void>;
}

export type ModelServingOptions = Omit<ResolverOptions, 'logger' | 'load'>;

/** The resolver's worker placement from the `serving` config section. */
export function workerOptions(serving: Config['serving']): NonNullable<ResolverOptions['workers']> {
  return {
    minWorkers: serving.minWorkers,
    maxWorkers: serving.workers,
    poolRows: serving.poolRows,
    idleTimeoutMs: serving.workerIdleMs,
  };
}

/** Opens the model registry and its resolver on the stores of the `serving` (or `all`) target. */
export async function startModelServing(
  stores: Stores,
  logger: Logger,
  options: ModelServingOptions = {},
): Promise<ModelServing> {
  const { state, artifact } = stores;
  if (!state || !artifact) {
    throw new MeridianError('INTERNAL', 'the model server needs the state and artifact stores of its target');
  }
  const registry = await ModelRegistry.open(state, artifact);
  const resolver = await RegistryModelResolver.start(registry, {
    ...options,
    logger: logger.child({ service: 'serving' }),
  });
  return { registry, resolver, close: () => resolver.close() };
}

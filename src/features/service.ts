import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Stores } from '../stores/index.js';
import { createIngestor, type Ingestor } from './ingest/push.js';
import { FeatureRegistry } from './registry.js';

/** The feature store of one process: its registry and its push ingestor over the platform's stores. */
export interface FeatureStore {
  registry: FeatureRegistry;
  ingestor: Ingestor;
  /** Writes what is queued; the stores themselves are closed by the platform afterwards. */
  close(): Promise<void>;
}

/** Opens the feature store on the stores of the `features` (or `all`) target. */
export async function startFeatureStore(stores: Stores, logger: Logger): Promise<FeatureStore> {
  const { state, offline, online } = stores;
  if (!state || !offline || !online) {
    throw new MeridianError(
      'INTERNAL',
      'the feature store needs the state, offline and online stores of its target',
    );
  }
  const registry = await FeatureRegistry.open(state);
  const ingestor = createIngestor({
    offline,
    online,
    catalog: registry,
    logger: logger.child({ service: 'features' }),
  });
  return { registry, ingestor, close: () => ingestor.close() };
}

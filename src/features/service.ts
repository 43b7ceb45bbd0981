import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { Stores } from '../stores/index.js';
import { createIngestor, type Ingestor, type IngestorOptions } from './ingest/push.js';
import { dropLeftoverScratchTables } from './ingest/scratch.js';
import { type EventConsumers, startEventConsumers } from './ingest/stream-consumer.js';
import { createTransformPool, type TransformPool } from './ingest/transform-pool.js';
import { type IngestQualityRecorder, openIngestQuality } from './quality/recorder.js';
import { FeatureRegistry } from './registry.js';

/** The feature store of one process: its registry, its push ingestor and its transform threads. */
export interface FeatureStore {
  registry: FeatureRegistry;
  ingestor: Ingestor;
  /** The worker threads TypeScript transforms run in (pass it to file loaders too). */
  transforms: TransformPool;
  /** Ingestion violations and view freshness; give it to file loaders as `quality` too. */
  quality: IngestQualityRecorder;
  /** Writes what is queued and stops the transform threads; the platform closes the stores afterwards. */
  close(): Promise<void>;
}

export interface FeatureStoreOptions {
  /** Threads of the TypeScript transform pool, 1..64 (`features.transformThreads`); default one per core. */
  transformThreads?: number;
  /** Consume `events.<source>` of the event stream for every stream source (on with NATS). */
  consumeEvents?: boolean;
  /** Where the ingest violation counter and freshness gauges are exported. */
  metrics?: Registry;
}

/** Opens the feature store on the stores of the `features` (or `all`) target. */
export async function startFeatureStore(
  stores: Stores,
  logger: Logger,
  options: FeatureStoreOptions = {},
): Promise<FeatureStore> {
  const { state, offline, online } = stores;
  if (!state || !offline || !online) {
    throw new MeridianError(
      'INTERNAL',
      'the feature store needs the state, offline and online stores of its target',
    );
  }
  const leftovers = await dropLeftoverScratchTables(offline);
  if (leftovers.length > 0) {
    logger.warn({ tables: leftovers }, 'dropped scratch tables an interrupted ingestion left behind');
  }
  const transforms = createTransformPool(
    options.transformThreads === undefined ? {} : { threads: options.transformThreads },
  );
  const registry = await FeatureRegistry.open(state);
  const quality = await openIngestQuality({
    state,
    catalog: registry,
    logger,
    ...(options.metrics ? { registry: options.metrics } : {}),
  });
  const ingestorOptions: IngestorOptions = {
    offline,
    online,
    catalog: registry,
    logger: logger.child({ service: 'features' }),
    transforms,
    quality,
  };
  const ingestor = createIngestor(ingestorOptions);
  let consumers: EventConsumers | undefined;
  try {
    consumers = await startConsumers(stores, registry, { ingestor, quality }, logger, options);
  } catch (err) {
    await ingestor.close();
    await transforms.close();
    throw err;
  }
  return {
    registry,
    ingestor,
    transforms,
    quality,
    async close() {
      try {
        // Consumers first: messages still in flight are acked by the ingestor before it stops.
        await consumers?.close();
        await ingestor.close();
        await quality.close();
      } finally {
        await transforms.close();
      }
    },
  };
}

/** Stream consumers of every applied stream source, refreshed after each apply. */
async function startConsumers(
  stores: Stores,
  registry: FeatureRegistry,
  { ingestor, quality }: { ingestor: Ingestor; quality: IngestQualityRecorder },
  logger: Logger,
  options: FeatureStoreOptions,
): Promise<EventConsumers | undefined> {
  if (!options.consumeEvents || !stores.stream) return undefined;
  const consumers = await startEventConsumers({
    stream: stores.stream,
    catalog: registry,
    ingestor,
    quality,
    logger: logger.child({ service: 'features' }),
    options: { sourceNames: () => registry.sourceNames() },
  });
  registry.onRefresh(() => consumers.refresh());
  return consumers;
}

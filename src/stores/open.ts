import { mkdirSync } from 'node:fs';
import type { Config } from '../core/config.js';
import { MeridianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createArtifactStore } from './artifact/index.js';
import { type StoreName, type Stores, TARGET_STORES } from './index.js';
import { createOfflineStore } from './offline/index.js';
import { createOnlineStore } from './online/index.js';
import { createJobQueue } from './queue/index.js';
import { createStateStore } from './state/index.js';
import type { Store, StoreContext } from './store.js';
import { createEventStream } from './stream/index.js';

/** Closing order: the queue runs on the state store, so it closes first. */
const CLOSE_ORDER: readonly StoreName[] = ['queue', 'stream', 'online', 'offline', 'artifact', 'state'];

/**
 * Opens the stores a target uses, as the config says. If one fails, the ones already open are
 * closed again before the error (which names the store and its URL) is thrown.
 */
export async function openStores(
  config: Config,
  logger: Logger,
  names = TARGET_STORES[config.target],
): Promise<Stores> {
  makeDataDir(config.dataDir);
  logger.info({ target: config.target, stores: names }, 'opening stores');
  const ctx: StoreContext = {
    dataDir: config.dataDir,
    logger,
    ...(config.azure.connectionString ? { azureConnectionString: config.azure.connectionString } : {}),
  };
  const stores: Stores = {};
  const wanted = new Set(names);
  try {
    // The queue may live on the state store, so state opens first; the rest have no order.
    if (wanted.has('state') || wanted.has('queue'))
      stores.state = await createStateStore(config.stateStore, ctx);
    const [online, offline, stream, artifact] = await Promise.all(
      [
        wanted.has('online')
          ? createOnlineStore(config.onlineStore, ctx).then((s) => (stores.online = s))
          : undefined,
        wanted.has('offline')
          ? createOfflineStore(config.offlineStore, ctx).then((s) => (stores.offline = s))
          : undefined,
        wanted.has('stream')
          ? createEventStream(config.eventStream, ctx).then((s) => (stores.stream = s))
          : undefined,
        wanted.has('artifact')
          ? createArtifactStore(config.artifactStore, ctx).then((s) => (stores.artifact = s))
          : undefined,
      ].map((p) => p?.catch((err: unknown) => err)),
    );
    const failed = [online, offline, stream, artifact].find((r) => r instanceof Error);
    if (failed) throw failed;
    if (wanted.has('queue') && stores.state)
      stores.queue = await createJobQueue(config.jobQueue, ctx, stores.state);
  } catch (err) {
    await closeStores(stores, logger);
    throw err;
  }
  for (const [name, store] of Object.entries(stores) as [StoreName, Store][]) {
    logger.info({ store: name, at: store.description }, 'store open');
  }
  return stores;
}

/** Closes every open store in dependency order; a failing close is logged, never thrown. */
export async function closeStores(stores: Stores, logger: Logger): Promise<void> {
  for (const name of CLOSE_ORDER) {
    const store = stores[name];
    if (!store) continue;
    try {
      await store.close();
    } catch (err) {
      logger.warn({ store: name, err }, 'store did not close cleanly');
    }
    delete stores[name];
  }
}

function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new MeridianError(
      'CONFIG_INVALID',
      `dataDir ${dir} cannot be created (${reason}); pass a writable directory with --data-dir or MERIDIAN_DATA_DIR`,
      { field: 'dataDir' },
      { cause: err },
    );
  }
}

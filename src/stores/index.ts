import type { Target } from '../core/config.js';
import type { ArtifactStore } from './artifact/port.js';
import type { OfflineStore } from './offline/port.js';
import type { OnlineStore } from './online/port.js';
import type { JobQueue } from './queue/port.js';
import type { StateStore } from './state/port.js';
import type { EventStream } from './stream/port.js';

export type { ArtifactStore } from './artifact/port.js';
export type { OfflineStore } from './offline/port.js';
export type { OnlineStore } from './online/port.js';
export type { JobQueue } from './queue/port.js';
export type { StateStore } from './state/port.js';
export type { Store, StoreContext } from './store.js';
export type { EventStream } from './stream/port.js';

/** Every port by name, each optional: a target opens only the stores it uses. */
export interface Stores {
  state?: StateStore;
  queue?: JobQueue;
  online?: OnlineStore;
  offline?: OfflineStore;
  stream?: EventStream;
  artifact?: ArtifactStore;
}

export type StoreName = keyof Stores;

/**
 * Which stores each target opens (ARCHITECTURE §1, §2). Only `features` (and `all`) own the DuckDB
 * file; every other writer of history goes through the stream.
 */
export const TARGET_STORES: Record<Target, readonly StoreName[]> = {
  all: ['state', 'queue', 'online', 'offline', 'stream', 'artifact'],
  features: ['state', 'online', 'offline', 'stream', 'artifact'],
  serving: ['state', 'online', 'stream', 'artifact'],
  monitoring: ['state', 'stream', 'artifact'],
  pipelines: ['state', 'queue', 'stream', 'artifact'],
};

/** The config key that sets each store, for messages. */
export const STORE_CONFIG_KEY: Record<StoreName, string> = {
  state: 'stateStore',
  queue: 'jobQueue',
  online: 'onlineStore',
  offline: 'offlineStore',
  stream: 'eventStream',
  artifact: 'artifactStore',
};

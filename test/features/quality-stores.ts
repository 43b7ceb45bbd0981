/**
 * The real stores the ingestion-quality suites run on: a PGlite state store with the feature
 * registry applied, DuckDB offline, LMDB online, a metrics registry and the quality recorder on a
 * manual clock (flushes happen when a test asks, so it sees exactly what one flush wrote).
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, type Registry } from '../../src/core/metrics.js';
import { createIngestor, type Ingestor } from '../../src/features/ingest/push.js';
import { type IngestQualityRecorder, openIngestQuality } from '../../src/features/quality/recorder.js';
import { FeatureRegistry } from '../../src/features/registry.js';
import { createOfflineStore } from '../../src/stores/offline/index.js';
import type { OfflineStore } from '../../src/stores/offline/port.js';
import { createOnlineStore } from '../../src/stores/online/index.js';
import type { OnlineStore } from '../../src/stores/online/port.js';
import { createStateStore } from '../../src/stores/state/index.js';
import type { StateStore } from '../../src/stores/state/port.js';
import { activitySource, USER, userActivityView } from '../helpers/catalog.js';
import { tempStoreDir } from '../helpers/servers.js';

/** 2024-05-01T00:00:00Z, where the manual clock starts. */
export const T0 = Date.parse('2024-05-01T00:00:00Z');

/** `activity` (stream) with `user_activity` (ttl 1h) and `user_double` (SQL, no ttl) over it, and a service. */
export const QUALITY_DEFINITIONS = {
  entities: [USER],
  sources: [activitySource()],
  featureViews: [
    userActivityView({ ttl: '1h' }),
    {
      name: 'user_double',
      entities: ['user'],
      source: 'activity',
      features: { amount_x2: 'float64' },
      sql: 'SELECT user_id, amount * 2 AS amount_x2, ts FROM {{source}}',
    },
  ],
  featureServices: [{ name: 'scoring', features: ['user_activity:*', 'user_double:amount_x2'] }],
};

/** How long opening the stores may take: a PGlite initdb alone takes a minute on a loaded 2-core machine. */
export const OPEN_TIMEOUT_MS = 180_000;

export interface QualityStores {
  dir: string;
  state: StateStore;
  registry: FeatureRegistry;
  offline: OfflineStore;
  online: OnlineStore;
  metrics: Registry;
  clock: ManualClock;
  quality: IngestQualityRecorder;
  close(): Promise<void>;
}

/**
 * Opens every store in a fresh temp directory and the recorder over them (no timed flush); the
 * state store in `stateDir` when given (a copy of a suite's PGlite template), else a new one.
 */
export async function openQualityStores(kind: string, stateDir?: string): Promise<QualityStores> {
  const dir = tempStoreDir(kind);
  const ctx = { dataDir: dir, logger: silentLogger };
  const state = await createStateStore(`pglite:${stateDir ?? join(dir, 'state')}`, ctx);
  const registry = await FeatureRegistry.open(state);
  await registry.apply(QUALITY_DEFINITIONS);
  const offline = await createOfflineStore(`duckdb:${join(dir, 'offline.duckdb')}`, ctx);
  const online = await createOnlineStore(`lmdb:${join(dir, 'online')}`, ctx);
  const metrics = createMetricsRegistry(false);
  const clock = new ManualClock(T0);
  const quality = await openIngestQuality({
    state,
    catalog: registry,
    registry: metrics,
    clock,
    flushMs: 3_600_000,
  });
  return {
    dir,
    state,
    registry,
    offline,
    online,
    metrics,
    clock,
    quality,
    async close() {
      await quality.close();
      await online.close();
      await offline.close();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A valid `activity` event of `user` at T0 + `minutes`. */
export const activityEvent = (user: number, minutes: number, amount = 1) => ({
  user_id: user,
  amount,
  country: 'US',
  ts: new Date(T0 + minutes * 60_000).toISOString(),
});

/** The stored violation rows, for assertions. */
export async function violationRows(state: StateStore) {
  const found = await state.query<{
    source: string;
    field: string;
    code: string;
    minute: Date;
    count: string;
    sample: string;
  }>(
    `SELECT source, field, code, minute, count::text AS count, sample
     FROM feature_ingest_violations ORDER BY source, field, code, minute`,
  );
  return found.rows.map((r) => ({ ...r, count: Number(r.count), minute: new Date(r.minute).getTime() }));
}

/** An ingestor over the stores that tells their recorder about violations and writes. */
export function qualityIngestor(s: QualityStores): Ingestor {
  return createIngestor({
    offline: s.offline,
    online: s.online,
    catalog: s.registry,
    quality: s.quality,
    maxDelayMs: 5,
  });
}

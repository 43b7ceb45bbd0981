/**
 * The feature store's ingestion quality recorder: rejected events into the violation log, written
 * views into the freshness tracker. Ingestion takes it as `quality` (see hooks.ts).
 */
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { StateStore } from '../../stores/state/port.js';
import type { Catalog } from '../catalog.js';
import { FreshnessTracker } from './freshness.js';
import type { IngestQuality, Violation } from './hooks.js';
import { ViolationLog } from './violation-log.js';

export interface IngestQualityOptions {
  /** Migrated with FEATURE_STORE_MIGRATIONS (the registry's open does it). */
  state: StateStore;
  catalog: Pick<Catalog, 'source' | 'view'>;
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  /** How long violations and last writes wait before they are written (default 1 s). */
  flushMs?: number;
}

export interface IngestQualityRecorder extends IngestQuality {
  readonly violations: ViolationLog;
  readonly freshness: FreshnessTracker;
  /** Writes everything pending to the state store. */
  flush(): Promise<void>;
  /** Writes everything pending; call before the state store closes. */
  close(): Promise<void>;
}

/** Opens the recorder over the state store; exports its series on `registry` when given. */
export async function openIngestQuality(options: IngestQualityOptions): Promise<IngestQualityRecorder> {
  const violations = new ViolationLog(options);
  const freshness = await FreshnessTracker.open(options);
  const flush = async (): Promise<void> => {
    await Promise.all([violations.flush(), freshness.flush()]);
  };
  return {
    violations,
    freshness,
    rejected: (source: string, found: readonly Violation[]) => violations.record(source, found),
    written: (views: readonly string[]) => freshness.written(views),
    flush,
    close: flush,
  };
}

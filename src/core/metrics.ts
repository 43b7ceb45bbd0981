import { collectDefaultMetrics, Registry } from 'prom-client';

/** One prom-client registry per platform, so tests and several platforms in one process never collide. */
export function createMetricsRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'meridian_' });
  return registry;
}

export type { Registry } from 'prom-client';

/**
 * Series names the feature store exports and the monitor watches: they live in core because the
 * feature store may not import monitoring (src/monitoring/metric-names.ts re-exports them).
 */

/** Events or values rejected at ingestion, counted; labels source, field, code. */
export const INGEST_VIOLATIONS_TOTAL = 'meridian_ingest_violations_total';

/** Seconds since a feature view was last written; labels feature_view. */
export const FEATURE_FRESHNESS_SECONDS = 'meridian_feature_freshness_seconds';

/** Freshness age divided by the view's freshness objective (above 1 breaches it); labels feature_view. */
export const FEATURE_FRESHNESS_SLO_RATIO = 'meridian_feature_freshness_slo_ratio';

/**
 * The freshness objective of a view without a ttl: a day, the cadence of a daily batch load, so such
 * a view breaches only when a whole day passes without a write. A view's ttl is its objective
 * otherwise: past it, its newest row is treated as expired at retrieval.
 */
export const DEFAULT_FRESHNESS_OBJECTIVE_SECONDS = 86_400;

/** A view's freshness objective in seconds, from its ttl in milliseconds (or the default). */
export function freshnessObjectiveSeconds(ttlMs: number | undefined): number {
  return ttlMs !== undefined && ttlMs > 0 ? ttlMs / 1000 : DEFAULT_FRESHNESS_OBJECTIVE_SECONDS;
}

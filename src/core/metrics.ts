import { collectDefaultMetrics, Registry } from 'prom-client';

/** One prom-client registry per platform, so tests and several platforms in one process never collide. */
export function createMetricsRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'meridian_' });
  return registry;
}

export type { Registry } from 'prom-client';

/**
 * The monitor's read of the feature registry's tables in the state store (SQL only: services never
 * import each other's code). The feature store owns and migrates these tables; a monitor on a state
 * store the feature store never opened finds none of them, and reads nothing.
 */
import type { StateStore } from '../../stores/state/port.js';

/** A feature view as the registry stores it, with what the monitor reads of it. */
export interface StoredView {
  name: string;
  source?: string;
  views?: string[];
  entities: string[];
  features: Record<string, string>;
  ttl?: string;
}

export interface StoredSource {
  name: string;
  timestampField: string;
  schema: Record<string, string>;
}

/** The registry's definitions the monitor maps features with. */
export interface StoredRegistry {
  views: Map<string, StoredView>;
  sources: Map<string, StoredSource>;
  /** Join keys by entity name. */
  joinKeys: Map<string, string[]>;
  /** `view:feature` / `view:*` references by feature service name. */
  services: Map<string, string[]>;
}

/** Whether the state store has the table (the feature store's migrations ran on it). */
export async function hasTable(state: StateStore, table: string): Promise<boolean> {
  const found = await state.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    table,
  ]);
  return found.rows[0]?.present === true;
}

/** Every applied definition of the registry; empty when the feature store's tables are missing. */
export async function readRegistry(state: StateStore): Promise<StoredRegistry> {
  const registry: StoredRegistry = {
    views: new Map(),
    sources: new Map(),
    joinKeys: new Map(),
    services: new Map(),
  };
  if (!(await hasTable(state, 'feature_registry'))) return registry;
  const found = await state.query<{ kind: string; name: string; definition: unknown }>(
    'SELECT kind, name, definition FROM feature_registry',
  );
  for (const row of found.rows) {
    const def = (typeof row.definition === 'string' ? JSON.parse(row.definition) : row.definition) as Record<
      string,
      unknown
    >;
    if (row.kind === 'feature_view') registry.views.set(row.name, def as unknown as StoredView);
    else if (row.kind === 'source') registry.sources.set(row.name, def as unknown as StoredSource);
    else if (row.kind === 'entity') registry.joinKeys.set(row.name, (def.joinKeys as string[]) ?? []);
    else if (row.kind === 'feature_service')
      registry.services.set(row.name, (def.features as string[]) ?? []);
  }
  return registry;
}

/** The sources a view reads, directly or through its upstream views. */
export function sourcesOfView(registry: StoredRegistry, view: string, seen = new Set<string>()): string[] {
  const def = registry.views.get(view);
  if (!def || seen.has(view)) return [];
  seen.add(view);
  if (def.source) return [def.source];
  return [...new Set((def.views ?? []).flatMap((v) => sourcesOfView(registry, v, seen)))];
}

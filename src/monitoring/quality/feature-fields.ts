/**
 * Which ingested fields feed a model version's features: the version's feature service names a
 * `view:feature` per input; the view reads one or more sources (through upstream views). A feature
 * is fed by the source field of its own name, when the source has one, and by the event-level
 * fields of every source it reads: the timestamp, its entities' join keys, and what stands for the
 * whole event (`events`, `event`, `message`, `file`, `_unknown` fields), since an event rejected for
 * any of those loses all its values. A field a SQL or TypeScript transform derives a feature from
 * under another name is not traced: the registry does not record it.
 */
import type { StateStore } from '../../stores/state/port.js';
import { readRegistry, type StoredRegistry, sourcesOfView } from './registry-tables.js';

/** What stands for a whole event or request in a violation's field (see the feature store's violation-field.ts). */
const WHOLE_EVENT = ['events', 'event', 'message', 'file', 'format', 'source', '_unknown'];

/** The (source, field) pairs feeding one model feature. */
export interface FeatureFields {
  /** The `view:feature` the feature service fills it from. */
  ref: string;
  fields: { source: string; field: string }[];
}

/** The fields feeding each of `features` of a model version; features no feature service fills are left out. */
export async function featureFields(
  state: StateStore,
  model: string,
  version: number,
  features: readonly string[],
): Promise<Record<string, FeatureFields>> {
  const registry = await readRegistry(state);
  if (registry.services.size === 0) return {};
  const found = await state.query<{ feature_service: string | null }>(
    'SELECT feature_service FROM model_versions WHERE name = $1 AND version = $2',
    [model, version],
  );
  const service = found.rows[0]?.feature_service;
  if (!service) return {};
  const refs = serviceRefs(registry, registry.services.get(service) ?? []);
  const out: Record<string, FeatureFields> = {};
  for (const feature of features) {
    const ref = refOf(feature, refs);
    if (ref) out[feature] = { ref, fields: fieldsOfRef(registry, ref) };
  }
  return out;
}

/** The service's references with `view:*` expanded to every feature of the view. */
function serviceRefs(registry: StoredRegistry, refs: readonly string[]): string[] {
  return refs.flatMap((ref) => {
    const [view, feature] = ref.split(':');
    if (feature !== '*') return [ref];
    return Object.keys(registry.views.get(view ?? '')?.features ?? {}).map((f) => `${view}:${f}`);
  });
}

/** The reference a model input names: itself, or the one reference whose feature part it is. */
function refOf(feature: string, refs: readonly string[]): string | undefined {
  if (refs.includes(feature)) return feature;
  const matches = refs.filter((ref) => ref.slice(ref.indexOf(':') + 1) === feature);
  return matches.length === 1 ? matches[0] : undefined;
}

function fieldsOfRef(registry: StoredRegistry, ref: string): { source: string; field: string }[] {
  const [viewName = '', feature = ''] = ref.split(':');
  const view = registry.views.get(viewName);
  if (!view) return [];
  const keys = view.entities.flatMap((entity) => registry.joinKeys.get(entity) ?? []);
  const pairs = new Map<string, { source: string; field: string }>();
  for (const source of sourcesOfView(registry, viewName)) {
    const def = registry.sources.get(source);
    if (!def) continue;
    const own = feature in def.schema ? [feature] : [];
    for (const field of [...own, def.timestampField, ...keys, ...WHOLE_EVENT]) {
      pairs.set(`${source}\u0000${field}`, { source, field });
    }
  }
  return [...pairs.values()];
}

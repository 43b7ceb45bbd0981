/**
 * The read side of the feature registry that ingestion and retrieval use. The registry (state
 * store) implements it; `catalogFromDefinitions` builds one in memory for tests and dry runs.
 */
import { parseDuration } from '../core/clock.js';
import { MeridianError } from '../core/errors.js';
import type {
  Definitions,
  EntityDef,
  FeatureServiceDef,
  FeatureType,
  FeatureViewDef,
  SourceDef,
} from './definitions.js';

/** A feature view as applied: its definition plus what the registry derived from it. */
export interface ResolvedView extends FeatureViewDef {
  /** Increases whenever the transform (sql or TypeScript transform text, features, inputs, entities) changes. */
  transformVersion: number;
  /** Join key columns of all its entities, in order, with their types. */
  keys: { name: string; type: FeatureType }[];
  /** TTL in milliseconds; undefined = no lower bound. */
  ttlMs: number | undefined;
}

export interface Catalog {
  entity(name: string): EntityDef | undefined;
  source(name: string): SourceDef | undefined;
  view(name: string): ResolvedView | undefined;
  service(name: string): FeatureServiceDef | undefined;
  /** Views that read this source directly. */
  viewsOfSource(source: string): ResolvedView[];
  views(): ResolvedView[];
}

/** Resolves `view:feature` / `view:*` references (or a service's) into view and feature names. */
export function resolveFeatureRefs(
  catalog: Catalog,
  refs: readonly string[],
): { view: ResolvedView; feature: string; ref: string }[] {
  const out: { view: ResolvedView; feature: string; ref: string }[] = [];
  refs.forEach((ref, i) => {
    const [viewName, feature] = ref.split(':');
    const view = viewName ? catalog.view(viewName) : undefined;
    if (!view || feature === undefined) {
      throw new MeridianError(
        'NOT_FOUND',
        `features[${i}]: no feature view "${viewName}" for "${ref}"; list views with GET /v1/feature-views`,
        {
          field: `features[${i}]`,
        },
      );
    }
    if (feature === '*') {
      for (const f of Object.keys(view.features)) out.push({ view, feature: f, ref: `${view.name}:${f}` });
      return;
    }
    if (!(feature in view.features)) {
      throw new MeridianError(
        'NOT_FOUND',
        `features[${i}]: view "${view.name}" has no feature "${feature}"; it has ${Object.keys(view.features).join(', ')}`,
        { field: `features[${i}]` },
      );
    }
    out.push({ view, feature, ref });
  });
  return out;
}

/** An in-memory catalog of already validated definitions, every view at transform version 1. */
export function catalogFromDefinitions(defs: Definitions): Catalog {
  const entities = new Map(defs.entities.map((e) => [e.name, e]));
  const sources = new Map(defs.sources.map((s) => [s.name, s]));
  const services = new Map(defs.featureServices.map((s) => [s.name, s]));
  const views = new Map<string, ResolvedView>();
  for (const v of defs.featureViews) views.set(v.name, resolveView(v, 1, entities, sources, views));
  return {
    entity: (n) => entities.get(n),
    source: (n) => sources.get(n),
    view: (n) => views.get(n),
    service: (n) => services.get(n),
    viewsOfSource: (s) => [...views.values()].filter((v) => v.source === s),
    views: () => [...views.values()],
  };
}

/** Derives a view's keys and TTL; join key types come from its source (or its first upstream view). */
export function resolveView(
  view: FeatureViewDef,
  transformVersion: number,
  entities: ReadonlyMap<string, EntityDef>,
  sources: ReadonlyMap<string, SourceDef>,
  views: ReadonlyMap<string, ResolvedView>,
): ResolvedView {
  const keys = view.entities.flatMap((entityName) => {
    const entity = entities.get(entityName);
    if (!entity)
      throw new MeridianError(
        'INVALID_ARGUMENT',
        `featureViews.${view.name}.entities: no entity "${entityName}"`,
        { field: 'entities' },
      );
    return entity.joinKeys.map((key) => ({ name: key, type: keyType(view, key, sources, views) }));
  });
  return { ...view, transformVersion, keys, ttlMs: view.ttl ? parseDuration(view.ttl) : undefined };
}

function keyType(
  view: FeatureViewDef,
  key: string,
  sources: ReadonlyMap<string, SourceDef>,
  views: ReadonlyMap<string, ResolvedView>,
): FeatureType {
  const upstreamView = view.views?.[0] ? views.get(view.views[0]) : undefined;
  const upstream = view.source
    ? sources.get(view.source)?.schema
    : Object.fromEntries(upstreamView?.keys.map((k) => [k.name, k.type]) ?? []);
  const type = upstream?.[key];
  if (!type) {
    throw new MeridianError(
      'INVALID_ARGUMENT',
      `featureViews.${view.name}: join key "${key}" is not a field of ${view.source ? `source "${view.source}"` : `view "${view.views?.[0]}"`}`,
      { field: `featureViews.${view.name}.entities` },
    );
  }
  return type;
}

/**
 * What an online read of a given feature list (or feature service) touches: the views with the
 * features asked of each, the join key columns, and the answer's columns. Resolving it costs more
 * than reading one entity, so plans are kept per catalog and reused while the catalog still hands
 * out the same view (and service) objects; the registry replaces them on every refresh, so an
 * apply invalidates a plan without a version counter.
 */
import { invalidArgument, MeridianError } from '../../core/errors.js';
import { type Catalog, type ResolvedView, resolveFeatureRefs } from '../catalog.js';
import type { FeatureServiceDef, FeatureType } from '../definitions.js';
import { onlineViewName } from '../layout.js';

/** One view to read: the online store namespace and the features asked of it, in answer order. */
export interface PlannedView {
  view: ResolvedView;
  storeName: string;
  features: string[];
  /** The declared type of each of `features`. */
  types: FeatureType[];
  /** Index into `ReadPlan.keys` of each of the view's join keys, in the view's key order. */
  keyColumns: number[];
  /** Views with the same join keys share their entity keys: the index of the first such view. */
  sameKeysAs: number;
}

/** One feature column of the answer. */
export interface PlannedColumn {
  view: number;
  /** Index of the feature in its view's `features` (and so in each read's `features`). */
  feature: number;
}

export interface ReadPlan {
  views: PlannedView[];
  /** The join key columns of the answer, first-seen order. */
  keys: { name: string; type: FeatureType }[];
  keyIndex: Map<string, number>;
  columns: PlannedColumn[];
  /** `metadata.feature_names`: join keys, then the feature refs. */
  featureNames: string[];
  /** The join key names, as error hints give them. */
  wanted: string;
  service: FeatureServiceDef | undefined;
}

/** Plans kept per catalog; a full cache starts over. */
const PLAN_CACHE_LIMIT = 1000;
const plans = new WeakMap<Catalog, Map<string, ReadPlan>>();

interface Requested {
  /** Cache key; undefined when the request cannot be keyed unambiguously. */
  key: string | undefined;
  serviceName: string | undefined;
  refs: readonly string[] | undefined;
}

/** Validates `features` / `featureService` and gives the cache key of the pair. */
function requested(request: Record<string, unknown>): Requested {
  const { features, featureService } = request;
  if (features !== undefined && featureService !== undefined) {
    throw invalidArgument('featureService', 'give either "features" or "featureService", not both');
  }
  if (featureService !== undefined) {
    if (typeof featureService !== 'string') throw invalidArgument('featureService', 'must be a service name');
    return { key: `\u0001${featureService}`, serviceName: featureService, refs: undefined };
  }
  if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string')) {
    throw invalidArgument(
      'features',
      'must be a non-empty array of "view:feature" strings',
      'send ["user_activity:amount", ...] or a "featureService" name',
    );
  }
  const refs = features as string[];
  // NUL separates the refs in the key; a ref holding one could alias another list.
  const keyable = !refs.some((r) => r.includes('\u0000'));
  return { key: keyable ? refs.join('\u0000') : undefined, serviceName: undefined, refs };
}

function stillValid(catalog: Catalog, plan: ReadPlan, serviceName: string | undefined): boolean {
  if (serviceName !== undefined && catalog.service(serviceName) !== plan.service) return false;
  for (const { view } of plan.views) if (catalog.view(view.name) !== view) return false;
  return true;
}

/** The plan of a request's `features` / `featureService`, from the cache when still valid. */
export function readPlan(catalog: Catalog, request: Record<string, unknown>): ReadPlan {
  const wanted = requested(request);
  let cache = plans.get(catalog);
  const cached = wanted.key === undefined ? undefined : cache?.get(wanted.key);
  if (cached !== undefined && stillValid(catalog, cached, wanted.serviceName)) return cached;
  const plan = buildPlan(catalog, wanted);
  if (wanted.key !== undefined) {
    if (cache === undefined) {
      cache = new Map();
      plans.set(catalog, cache);
    }
    if (cache.size >= PLAN_CACHE_LIMIT) cache.clear();
    cache.set(wanted.key, plan);
  }
  return plan;
}

function serviceOf(catalog: Catalog, name: string): FeatureServiceDef {
  const service = catalog.service(name);
  if (!service) {
    throw new MeridianError(
      'NOT_FOUND',
      `featureService: no feature service "${name}"; apply it with POST /v1/apply or ask for "features"`,
      { field: 'featureService' },
    );
  }
  return service;
}

function buildPlan(catalog: Catalog, wanted: Requested): ReadPlan {
  const service = wanted.serviceName === undefined ? undefined : serviceOf(catalog, wanted.serviceName);
  const all = resolveFeatureRefs(catalog, service ? service.features : wanted.refs!);
  // "view:*" and "view:f" may name one feature twice: answer it once, where it first appears.
  const seen = new Set<string>();
  const resolved = all.filter((r) => !seen.has(r.ref) && seen.add(r.ref));
  const plan: ReadPlan = {
    views: [],
    keys: [],
    keyIndex: new Map(),
    columns: [],
    featureNames: [],
    wanted: '',
    service,
  };
  const viewIndex = new Map<string, number>();
  for (const { view, feature } of resolved) {
    let v = viewIndex.get(view.name);
    if (v === undefined) {
      v = plan.views.length;
      viewIndex.set(view.name, v);
      plan.views.push(plannedView(plan, view));
    }
    const planned = plan.views[v]!;
    const type = view.features[feature]!;
    plan.columns.push({ view: v, feature: planned.features.length });
    planned.features.push(feature);
    planned.types.push(type);
  }
  plan.featureNames = [...plan.keys.map((k) => k.name), ...resolved.map((r) => r.ref)];
  plan.wanted = plan.keys.map((k) => k.name).join(', ');
  return plan;
}

function plannedView(plan: ReadPlan, view: ResolvedView): PlannedView {
  for (const key of view.keys) {
    if (!plan.keyIndex.has(key.name)) {
      plan.keyIndex.set(key.name, plan.keys.length);
      plan.keys.push(key);
    }
  }
  const keyColumns = view.keys.map((k) => plan.keyIndex.get(k.name)!);
  const signature = keyColumns.join(',');
  const same = plan.views.findIndex((other) => other.keyColumns.join(',') === signature);
  return {
    view,
    storeName: onlineViewName(view),
    features: [],
    types: [],
    keyColumns,
    sameKeysAs: same >= 0 ? same : plan.views.length,
  };
}

/**
 * Online retrieval in Feast's feature-server shape, so Feast HTTP clients work unchanged: one result
 * per column (join keys first, then each requested feature), values in entity order, a status per
 * value (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE) and never a zero standing in for a missing value.
 * Entity keys that no requested view uses are rejected: a misspelt key would otherwise read nothing.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { FeatureValue, OnlineRead, OnlineStore } from '../../stores/online/port.js';
import { type Catalog, type ResolvedView, resolveFeatureRefs } from '../catalog.js';
import type { FeatureType } from '../definitions.js';
import { coerceValue } from '../ingest/events.js';
import { entityKey, onlineViewName } from '../layout.js';

export type FeatureStatus = 'PRESENT' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';

/** One column of the answer. */
export interface FeastColumn {
  values: unknown[];
  statuses: FeatureStatus[];
  event_timestamps: string[];
}

export interface OnlineFeaturesResponse {
  metadata: { feature_names: string[] };
  results: FeastColumn[];
}

/** Feast's event timestamp for a value that has none. */
const NO_TIME = '1970-01-01T00:00:00Z';

/** Recently formatted event times: the rows of hot entities keep their event time across reads. */
const isoCache = new Map<number, string>();
const ISO_CACHE_LIMIT = 10_000;

/** ISO-8601 UTC, without the milliseconds when they are zero, as Feast writes it. */
export function isoTime(ms: number): string {
  const known = isoCache.get(ms);
  if (known !== undefined) return known;
  const text = new Date(ms).toISOString().replace('.000Z', 'Z');
  if (isoCache.size >= ISO_CACHE_LIMIT) isoCache.clear();
  isoCache.set(ms, text);
  return text;
}

/** A stored value in the wire format: int64 as a number when safe, else a string; timestamps as ISO text. */
function wireValue(type: FeatureType, value: FeatureValue | unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (type === 'timestamp' && typeof value === 'number') return isoTime(value);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `view:feature` references of a request, from `features` or `featureService`. */
function requestedRefs(catalog: Catalog, request: Record<string, unknown>): string[] {
  const { features, featureService } = request;
  if (features !== undefined && featureService !== undefined) {
    throw invalidArgument('featureService', 'give either "features" or "featureService", not both');
  }
  if (featureService !== undefined) {
    if (typeof featureService !== 'string') throw invalidArgument('featureService', 'must be a service name');
    const service = catalog.service(featureService);
    if (!service) {
      throw new MeridianError(
        'NOT_FOUND',
        `featureService: no feature service "${featureService}"; apply it with POST /v1/apply or ask for "features"`,
        { field: 'featureService' },
      );
    }
    return service.features;
  }
  if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string')) {
    throw invalidArgument(
      'features',
      'must be a non-empty array of "view:feature" strings',
      'send ["user_activity:amount", ...] or a "featureService" name',
    );
  }
  return features as string[];
}

/** Checks `entities` and converts every key value to its join key's type. */
function entityColumns(
  request: Record<string, unknown>,
  keyTypes: Map<string, FeatureType>,
): { columns: Map<string, unknown[]>; count: number } {
  const entities = request.entities;
  const wanted = [...keyTypes.keys()].join(', ');
  if (!isPlainObject(entities)) {
    throw invalidArgument('entities', 'must be an object of join key -> array of values', `give ${wanted}`);
  }
  for (const key of Object.keys(entities)) {
    if (!keyTypes.has(key)) {
      throw invalidArgument(
        `entities.${key}`,
        'is not a join key of the requested features',
        `give ${wanted}`,
      );
    }
  }
  const columns = new Map<string, unknown[]>();
  let count: number | undefined;
  for (const [key, type] of keyTypes) {
    const values = entities[key];
    if (!Array.isArray(values)) {
      throw invalidArgument(
        `entities.${key}`,
        'is missing or not an array',
        `give an array of ${type} values`,
      );
    }
    if (count !== undefined && values.length !== count) {
      throw invalidArgument(
        `entities.${key}`,
        `has ${values.length} values but ${[...columns.keys()][0]} has ${count}`,
        'give every join key the same number of values, one per entity',
      );
    }
    count = values.length;
    const coerced = values.map((value, i) => coerceValue(type, value, `entities.${key}[${i}]`));
    const empty = coerced.indexOf('');
    if (empty >= 0)
      throw invalidArgument(`entities.${key}[${empty}]`, 'is an empty join key', 'send a non-empty value');
    columns.set(key, coerced);
  }
  return { columns, count: count ?? 0 };
}

/** The answer column of one feature of one view, from that view's reads. */
function featureColumn(
  view: ResolvedView,
  feature: string,
  index: number,
  reads: readonly OnlineRead[],
  times: readonly string[],
  now: number,
): FeastColumn {
  const type = view.features[feature]!;
  const n = reads.length;
  const column: FeastColumn = {
    values: new Array(n),
    statuses: new Array(n),
    event_timestamps: new Array(n),
  };
  const oldest = view.ttlMs === undefined ? Number.NEGATIVE_INFINITY : now - view.ttlMs;
  for (let i = 0; i < n; i++) {
    const read = reads[i]!;
    const feature = read.features[index];
    if (!read.found || read.eventTime === null || !feature || feature.status !== 'PRESENT') {
      column.values[i] = null;
      column.statuses[i] = 'NOT_FOUND';
      column.event_timestamps[i] = NO_TIME;
    } else if (read.eventTime < oldest) {
      column.values[i] = null;
      column.statuses[i] = 'OUTSIDE_MAX_AGE';
      column.event_timestamps[i] = times[i]!;
    } else {
      column.values[i] = wireValue(type, feature.value);
      column.statuses[i] = 'PRESENT';
      column.event_timestamps[i] = times[i]!;
    }
  }
  return column;
}

/** Each read's event time as ISO text, formatted once per entity rather than once per feature. */
function readTimes(reads: readonly OnlineRead[]): string[] {
  return reads.map((read) => (read.eventTime === null ? NO_TIME : isoTime(read.eventTime)));
}

export interface OnlineFeaturesOptions {
  /** The clock TTLs are measured against. */
  clock?: Clock;
}

/** Reads the requested features of the given entities: one `getMany` per view. */
export async function getOnlineFeatures(
  online: OnlineStore,
  catalog: Catalog,
  request: unknown,
  options: OnlineFeaturesOptions = {},
): Promise<OnlineFeaturesResponse> {
  if (!isPlainObject(request)) throw invalidArgument('body', 'must be a JSON object');
  const all = resolveFeatureRefs(catalog, requestedRefs(catalog, request));
  // "view:*" and "view:f" may name one feature twice: answer it once, where it first appears.
  const resolved = all.filter((r, i) => all.findIndex((other) => other.ref === r.ref) === i);
  const views = new Map<string, { view: ResolvedView; features: string[] }>();
  const keyTypes = new Map<string, FeatureType>();
  for (const { view, feature } of resolved) {
    const entry = views.get(view.name) ?? { view, features: [] };
    entry.features.push(feature);
    views.set(view.name, entry);
    for (const key of view.keys) if (!keyTypes.has(key.name)) keyTypes.set(key.name, key.type);
  }
  const { columns, count } = entityColumns(request, keyTypes);
  const reads = new Map<string, OnlineRead[]>();
  await Promise.all(
    [...views.values()].map(async ({ view, features }) => {
      const keys = Array.from({ length: count }, (_, i) =>
        entityKey(view.keys.map((k) => columns.get(k.name)![i])),
      );
      reads.set(view.name, await online.getMany(onlineViewName(view), keys, features));
    }),
  );
  const now = (options.clock ?? systemClock).now();
  const results: FeastColumn[] = [...keyTypes].map(([key, type]) => ({
    values: columns.get(key)!.map((value) => wireValue(type, value)),
    statuses: new Array<FeatureStatus>(count).fill('PRESENT'),
    event_timestamps: new Array<string>(count).fill(NO_TIME),
  }));
  const times = new Map([...reads].map(([name, viewReads]) => [name, readTimes(viewReads)]));
  for (const { view, feature } of resolved) {
    const index = views.get(view.name)!.features.indexOf(feature);
    results.push(featureColumn(view, feature, index, reads.get(view.name)!, times.get(view.name)!, now));
  }
  return { metadata: { feature_names: [...keyTypes.keys(), ...resolved.map((r) => r.ref)] }, results };
}

/**
 * Online retrieval in Feast's feature-server shape, so Feast HTTP clients work unchanged: one result
 * per column (join keys first, then each requested feature), values in entity order, a status per
 * value (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE) and never a zero standing in for a missing value.
 * Entity keys that no requested view uses are rejected: a misspelt key would otherwise read nothing.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { invalidArgument } from '../../core/errors.js';
import type { FeatureValue, OnlineRead, OnlineStore } from '../../stores/online/port.js';
import type { Catalog, ResolvedView } from '../catalog.js';
import type { FeatureType } from '../definitions.js';
import { coerceValue } from '../ingest/events.js';
import { entityKey } from '../layout.js';
import { type OnlineReads, onlineJson } from './online-json.js';
import { type ReadPlan, readPlan } from './online-plan.js';

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

/** `isoTime` as a JSON string, kept the same way: the JSON answer writes it once per entity. */
const isoJsonCache = new Map<number, string>();
function isoJson(ms: number): string {
  const known = isoJsonCache.get(ms);
  if (known !== undefined) return known;
  const text = `"${isoTime(ms)}"`;
  if (isoJsonCache.size >= ISO_CACHE_LIMIT) isoJsonCache.clear();
  isoJsonCache.set(ms, text);
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

/** Checks `entities` and converts every key value to its join key's type, one array per plan key. */
function entityColumns(
  request: Record<string, unknown>,
  plan: ReadPlan,
): { keyValues: unknown[][]; count: number } {
  const entities = request.entities;
  if (!isPlainObject(entities)) {
    throw invalidArgument(
      'entities',
      'must be an object of join key -> array of values',
      `give ${plan.wanted}`,
    );
  }
  for (const key of Object.keys(entities)) {
    if (!plan.keyIndex.has(key)) {
      throw invalidArgument(
        `entities.${key}`,
        'is not a join key of the requested features',
        `give ${plan.wanted}`,
      );
    }
  }
  const keyValues: unknown[][] = [];
  let count: number | undefined;
  for (const { name, type } of plan.keys) {
    const values = entities[name];
    if (!Array.isArray(values)) {
      throw invalidArgument(
        `entities.${name}`,
        'is missing or not an array',
        `give an array of ${type} values`,
      );
    }
    if (count !== undefined && values.length !== count) {
      throw invalidArgument(
        `entities.${name}`,
        `has ${values.length} values but ${plan.keys[0]!.name} has ${count}`,
        'give every join key the same number of values, one per entity',
      );
    }
    count = values.length;
    const coerced = new Array<unknown>(count);
    for (let i = 0; i < count; i++) coerced[i] = coerceValue(type, values[i], `entities.${name}[${i}]`);
    const empty = coerced.indexOf('');
    if (empty >= 0)
      throw invalidArgument(`entities.${name}[${empty}]`, 'is an empty join key', 'send a non-empty value');
    keyValues.push(coerced);
  }
  return { keyValues, count: count ?? 0 };
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

/** The store keys of every entity for one view's join keys (columns index `keyValues`). */
function storeKeys(keyValues: readonly unknown[][], columns: readonly number[], count: number): string[] {
  const keys = new Array<string>(count);
  if (columns.length === 1) {
    const only = keyValues[columns[0]!]!;
    for (let i = 0; i < count; i++) keys[i] = entityKey([only[i]]);
    return keys;
  }
  for (let i = 0; i < count; i++) keys[i] = entityKey(columns.map((c) => keyValues[c]![i]));
  return keys;
}

/** Validates the request and reads every view it asks for: one `getMany` per view, all at once. */
async function readOnline(
  online: OnlineStore,
  catalog: Catalog,
  request: unknown,
  options: OnlineFeaturesOptions,
): Promise<OnlineReads> {
  if (!isPlainObject(request)) throw invalidArgument('body', 'must be a JSON object');
  const plan = readPlan(catalog, request);
  const { keyValues, count } = entityColumns(request, plan);
  const keys: string[][] = [];
  const pending = plan.views.map((v, i) => {
    keys[i] = v.sameKeysAs === i ? storeKeys(keyValues, v.keyColumns, count) : keys[v.sameKeysAs]!;
    return online.getMany(v.storeName, keys[i]!, v.features);
  });
  const reads = pending.length === 1 ? [await pending[0]!] : await Promise.all(pending);
  return { plan, keyValues, count, reads, now: (options.clock ?? systemClock).now() };
}

/** Reads the requested features of the given entities: one `getMany` per view. */
export async function getOnlineFeatures(
  online: OnlineStore,
  catalog: Catalog,
  request: unknown,
  options: OnlineFeaturesOptions = {},
): Promise<OnlineFeaturesResponse> {
  const { plan, keyValues, count, reads, now } = await readOnline(online, catalog, request, options);
  const results: FeastColumn[] = plan.keys.map(({ type }, k) => ({
    values: keyValues[k]!.map((value) => wireValue(type, value)),
    statuses: new Array<FeatureStatus>(count).fill('PRESENT'),
    event_timestamps: new Array<string>(count).fill(NO_TIME),
  }));
  const times = reads.map(readTimes);
  for (const c of plan.columns) {
    const { view, features } = plan.views[c.view]!;
    results.push(featureColumn(view, features[c.feature]!, c.feature, reads[c.view]!, times[c.view]!, now));
  }
  return { metadata: { feature_names: plan.featureNames.slice() }, results };
}

/** The same answer as `getOnlineFeatures` as its exact JSON text, written without the object. */
export async function getOnlineFeaturesJson(
  online: OnlineStore,
  catalog: Catalog,
  request: unknown,
  options: OnlineFeaturesOptions = {},
): Promise<string> {
  return onlineJson(await readOnline(online, catalog, request, options), wireValue, isoJson, NO_TIME);
}

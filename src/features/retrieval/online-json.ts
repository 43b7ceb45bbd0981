/**
 * The online answer written straight to JSON text, byte for byte what `JSON.stringify` gives for
 * the `OnlineFeaturesResponse` object, without building that object first: for 100 entities x 10
 * features the object holds 3,000 array slots, most of them one of a few repeated strings.
 * Statuses and timestamps are written once per view and reused by every column of the view whose
 * entities all have the feature (the usual case); only a column with a missing feature is written
 * entity by entity. The JSON text of an entity's values is kept with the frozen reads array a store
 * hands out again for an unchanged row, so a hot entity's numbers are formatted once per write.
 */
import type { FeatureRead, FeatureValue, OnlineRead } from '../../stores/online/port.js';
import type { FeatureType } from '../definitions.js';
import type { PlannedView, ReadPlan } from './online-plan.js';

/** The reads of one request, as `getOnlineFeatures` gathers them. */
export interface OnlineReads {
  plan: ReadPlan;
  /** The converted join key values, one array per `plan.keys` entry. */
  keyValues: unknown[][];
  count: number;
  /** One array of reads per `plan.views` entry, in entity order. */
  reads: OnlineRead[][];
  /** The instant TTLs are measured from, epoch milliseconds. */
  now: number;
}

/** Turns a stored value into its wire form (int64 as number or string, timestamps as ISO text). */
export type WireValue = (type: FeatureType, value: FeatureValue) => unknown;

/** What the values of one entity in one view answer, decided once per view and entity. */
const MISSING = 0;
const EXPIRED = 1;
const LIVE = 2;
type EntityState = typeof MISSING | typeof EXPIRED | typeof LIVE;

const STATUS_TEXT = ['"NOT_FOUND"', '"OUTSIDE_MAX_AGE"', '"PRESENT"'] as const;

/** Value texts per reads array, valid for the planned view (and so the types) they were written for. */
const valueTextCache = new WeakMap<readonly FeatureRead[], { owner: PlannedView; texts: string[] }>();

/**
 * JSON text of a value already in wire form (see `wireValue`). JSON.stringify also for numbers:
 * V8 writes a double there several times faster than through String() or a template.
 */
export function jsonText(value: unknown): string {
  return value === null ? 'null' : (JSON.stringify(value) ?? 'null');
}

/** The JSON text of each feature of one read; `null` for a feature the row does not have. */
function valueTexts(features: readonly FeatureRead[], planned: PlannedView, wire: WireValue): string[] {
  const frozen = Object.isFrozen(features);
  if (frozen) {
    const known = valueTextCache.get(features);
    if (known !== undefined && known.owner === planned) return known.texts;
  }
  const texts = new Array<string>(features.length);
  for (let j = 0; j < features.length; j++) {
    const read = features[j]!;
    texts[j] = read.status === 'PRESENT' ? jsonText(wire(planned.types[j]!, read.value)) : 'null';
  }
  if (frozen) valueTextCache.set(features, { owner: planned, texts });
  return texts;
}

/** `text,text,...` n times. */
function repeated(text: string, n: number): string {
  return n === 0 ? '' : `${text},`.repeat(n - 1) + text;
}

function column(values: string, statuses: string, times: string): string {
  return `{"values":[${values}],"statuses":[${statuses}],"event_timestamps":[${times}]}`;
}

interface ViewText {
  states: EntityState[];
  /** Each entity's event time as a JSON string (the epoch for a missing entity). */
  times: string[];
  /** The value texts of each live entity. */
  texts: (string[] | undefined)[];
  statusesText: string;
  timesText: string;
}

function viewText(
  planned: PlannedView,
  reads: readonly OnlineRead[],
  answer: OnlineReads,
  wire: WireValue,
  isoJson: (ms: number) => string,
  noTime: string,
): ViewText {
  const ttlMs = planned.view.ttlMs;
  const oldest = ttlMs === undefined ? Number.NEGATIVE_INFINITY : answer.now - ttlMs;
  const n = reads.length;
  const states = new Array<EntityState>(n);
  const times = new Array<string>(n);
  const texts = new Array<string[] | undefined>(n);
  const statuses = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const read = reads[i]!;
    const eventTime = read.eventTime;
    let state: EntityState = MISSING;
    let time = noTime;
    if (read.found && eventTime !== null) {
      state = eventTime < oldest ? EXPIRED : LIVE;
      time = isoJson(eventTime);
      if (state === LIVE) texts[i] = valueTexts(read.features, planned, wire);
    }
    states[i] = state;
    times[i] = time;
    statuses[i] = STATUS_TEXT[state];
  }
  return { states, times, texts, statusesText: statuses.join(','), timesText: times.join(',') };
}

/** One feature column; falls back to entity-by-entity statuses only when the feature is missing somewhere. */
function featureColumnText(
  reads: readonly OnlineRead[],
  index: number,
  view: ViewText,
  noTime: string,
): string {
  const n = reads.length;
  const values = new Array<string>(n);
  let uniform = true;
  for (let i = 0; i < n; i++) {
    const state = view.states[i]!;
    let text = 'null';
    if (state !== MISSING && reads[i]!.features[index]?.status !== 'PRESENT') uniform = false;
    else if (state === LIVE) text = view.texts[i]![index]!;
    values[i] = text;
  }
  if (uniform) return column(values.join(','), view.statusesText, view.timesText);
  const statuses = new Array<string>(n);
  const times = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const state = view.states[i]!;
    const present = state !== MISSING && reads[i]!.features[index]?.status === 'PRESENT';
    statuses[i] = STATUS_TEXT[present ? state : MISSING];
    times[i] = present ? view.times[i]! : noTime;
  }
  return column(values.join(','), statuses.join(','), times.join(','));
}

/**
 * The whole answer as JSON text. `wire` is the conversion the object form uses, `isoJson` gives an
 * event time as its quoted ISO text, and `noTime` the time of a value that has none.
 */
export function onlineJson(
  answer: OnlineReads,
  wire: WireValue,
  isoJson: (ms: number) => string,
  noTime: string,
): string {
  const { plan, keyValues, count, reads } = answer;
  const quotedNoTime = `"${noTime}"`;
  const parts: string[] = [];
  const keyStatuses = repeated(STATUS_TEXT[LIVE], count);
  const keyTimes = repeated(quotedNoTime, count);
  for (let k = 0; k < plan.keys.length; k++) {
    const type = plan.keys[k]!.type;
    const values = keyValues[k]!.map((v) => jsonText(wire(type, v as FeatureValue))).join(',');
    parts.push(column(values, keyStatuses, keyTimes));
  }
  const views = plan.views.map((v, i) => viewText(v, reads[i]!, answer, wire, isoJson, quotedNoTime));
  for (const c of plan.columns) {
    parts.push(featureColumnText(reads[c.view]!, c.feature, views[c.view]!, quotedNoTime));
  }
  const names = JSON.stringify({ feature_names: plan.featureNames });
  return `{"metadata":${names},"results":[${parts.join(',')}]}`;
}

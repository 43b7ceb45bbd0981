/**
 * Checks pushed events against their source's schema and converts them to the types the stores
 * take: int64 -> bigint, timestamp -> epoch milliseconds. Every problem names the row and field
 * (`events[3].amount`) so the caller can fix that event; one bad event rejects the whole request.
 *
 * Fields that are not in the schema are rejected, not ignored: a misspelt field would otherwise be
 * dropped silently and the real one reported missing only by luck.
 */
import { hash } from 'node:crypto';
import { invalidArgument } from '../../core/errors.js';
import type { FeatureType, SourceDef } from '../definitions.js';

/** An event whose values have the schema's types (int64 as bigint, timestamp as epoch ms). */
export interface ParsedEvent {
  values: Record<string, unknown>;
  /** The event timestamp in epoch milliseconds. */
  eventTime: number;
  /** The dedup id: the `idField` value, or the SHA-256 of the canonical event. */
  id: string;
}

export interface ParseOptions {
  /** Epoch ms the future margin is measured from. */
  now: number;
  /** Events more than this far past `now` are rejected. */
  maxFutureMs: number;
}

/** One day: a producer's clock may be off by hours, but not by days. */
export const DEFAULT_MAX_FUTURE_MS = 86_400_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^-?\d{1,19}$/;
/** ISO-8601 date-time with a zone (`Z` or `±hh:mm`); a zoneless time would mean the server's zone. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** A value of the wrong type; `coerceValue` turns it into an error naming the path. */
const BAD = Symbol('bad');
type Coerced = unknown | typeof BAD;

const EXPECTS: Record<FeatureType, string> = {
  int64: 'an integer (a JSON number up to 2^53 or a decimal string)',
  int32: 'an integer from -2^31 to 2^31-1',
  float64: 'a number',
  float32: 'a number',
  string: 'a string',
  bool: 'true or false',
  timestamp: 'an ISO-8601 string with a zone (e.g. "2024-05-01T12:00:00Z") or epoch milliseconds',
  'float64[]': 'an array of numbers',
};

function toInt64(value: unknown): Coerced {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : BAD;
  if (typeof value !== 'string' || !DECIMAL.test(value)) return BAD;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX ? n : BAD;
}

function toEpochMs(value: unknown): Coerced {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : BAD;
  if (typeof value !== 'string' || !ISO_WITH_ZONE.test(value)) return BAD;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : BAD;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const CONVERT: Record<FeatureType, (value: unknown) => Coerced> = {
  int64: toInt64,
  int32: (v) => (Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 ? v : BAD),
  float64: (v) => (isFiniteNumber(v) ? v : BAD),
  float32: (v) => (isFiniteNumber(v) ? v : BAD),
  string: (v) => (typeof v === 'string' ? v : BAD),
  bool: (v) => (typeof v === 'boolean' ? v : BAD),
  timestamp: toEpochMs,
  'float64[]': (v) => (Array.isArray(v) && v.every(isFiniteNumber) ? v : BAD),
};

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Converts one JSON value to `type`, or throws INVALID_ARGUMENT naming `path` and what to send. */
export function coerceValue(type: FeatureType, value: unknown, path: string): unknown {
  if (value === undefined) throw invalidArgument(path, 'is missing', `send ${EXPECTS[type]}`);
  const converted = CONVERT[type](value);
  if (converted === BAD)
    throw invalidArgument(path, `${shown(value)} is not ${type}`, `send ${EXPECTS[type]}`);
  return converted;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How one schema field is checked, converted and written into the canonical JSON of the event. */
interface FieldPlan {
  name: string;
  type: FeatureType;
  convert: (value: unknown) => Coerced;
  /** `"name":`, written once per source instead of once per event. */
  canonicalKey: string;
  /** The converted value as `JSON.stringify` writes it (int64 as a quoted decimal string). */
  canonicalValue: (value: unknown) => string;
}

/** A source's schema compiled once: the per-event work is then one loop without lookups by type. */
interface SourcePlan {
  schema: SourceDef['schema'];
  fields: FieldPlan[];
  /** The fields in canonical (sorted key) order. */
  sorted: FieldPlan[];
}

const asText = (value: unknown): string => `${value as number}`;
const CANONICAL: Record<FeatureType, (value: unknown) => string> = {
  int64: (v) => `"${v as bigint}"`,
  int32: asText,
  float64: asText,
  float32: asText,
  string: (v) => JSON.stringify(v),
  bool: (v) => (v ? 'true' : 'false'),
  timestamp: asText,
  'float64[]': (v) => JSON.stringify(v),
};

/** Compiled schemas by source definition: a re-applied source is a new object and gets a new plan. */
const plans = new WeakMap<SourceDef, SourcePlan>();

function planOf(source: SourceDef): SourcePlan {
  const cached = plans.get(source);
  if (cached && cached.schema === source.schema) return cached;
  const fields = Object.entries(source.schema).map(
    ([name, type]): FieldPlan => ({
      name,
      type,
      convert: CONVERT[type],
      canonicalKey: `${JSON.stringify(name)}:`,
      canonicalValue: CANONICAL[type],
    }),
  );
  const sorted = [...fields].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const plan = { schema: source.schema, fields, sorted };
  plans.set(source, plan);
  return plan;
}

function unknownField(source: SourceDef, path: string, key: string): never {
  throw invalidArgument(
    `${path}.${key}`,
    `is not a field of source "${source.name}"`,
    `send only ${Object.keys(source.schema).join(', ')}`,
  );
}

/** The SHA-256 of the canonical JSON of converted values, written field by field in sorted order. */
function hashedId(plan: SourcePlan, values: Record<string, unknown>): string {
  let text = '{';
  for (let i = 0; i < plan.sorted.length; i++) {
    const field = plan.sorted[i]!;
    text += `${i === 0 ? '' : ','}${field.canonicalKey}${field.canonicalValue(values[field.name])}`;
  }
  return hash('sha256', `${text}}`, 'hex');
}

/** Checks and converts one event; `i` is its index in the request. Error paths are built only on failure. */
function parseEvent(
  source: SourceDef,
  plan: SourcePlan,
  raw: unknown,
  i: number,
  options: ParseOptions,
): ParsedEvent {
  if (!isPlainObject(raw)) {
    throw invalidArgument(`events[${i}]`, `must be an object of field values, got ${shown(raw)}`);
  }
  for (const key in raw) {
    if (!Object.hasOwn(plan.schema, key) && Object.hasOwn(raw, key))
      unknownField(source, `events[${i}]`, key);
  }
  const ts = source.timestampField;
  if (raw[ts] === undefined || raw[ts] === null) {
    throw invalidArgument(
      `events[${i}].${ts}`,
      'the event timestamp is missing',
      `send ${EXPECTS.timestamp}`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const field of plan.fields) {
    const value = raw[field.name];
    const converted = value === undefined ? BAD : field.convert(value);
    if (converted === BAD) coerceValue(field.type, value, `events[${i}].${field.name}`);
    values[field.name] = converted;
  }
  const eventTime = values[ts] as number;
  if (eventTime > options.now + options.maxFutureMs) {
    throw invalidArgument(
      `events[${i}].${ts}`,
      `${new Date(eventTime).toISOString()} is more than ${options.maxFutureMs / 1000}s in the future`,
      "send the time the event happened, in UTC or with its zone; check the producer's clock",
    );
  }
  return { values, eventTime, id: source.idField ? idText(values[source.idField]) : hashedId(plan, values) };
}

/** Checks a request's `events` array against the source; throws on the first bad event. */
export function parseEvents(source: SourceDef, events: unknown, options: ParseOptions): ParsedEvent[] {
  if (!Array.isArray(events)) {
    throw invalidArgument('events', `must be an array of event objects, got ${shown(events)}`);
  }
  const plan = planOf(source);
  const parsed = new Array<ParsedEvent>(events.length);
  for (let i = 0; i < events.length; i++) parsed[i] = parseEvent(source, plan, events[i], i, options);
  return parsed;
}

/**
 * Rejects events whose join key (of any view reading the source) is an empty string: it would make
 * an empty online entity key, which the online store refuses only after the offline write.
 */
export function checkJoinKeys(events: readonly ParsedEvent[], keys: readonly string[]): void {
  events.forEach((event, i) => {
    for (const key of keys) {
      if (event.values[key] === '') {
        throw invalidArgument(`events[${i}].${key}`, 'is an empty join key', 'send a non-empty value');
      }
    }
  });
}

/** JSON with keys sorted and bigints as decimal text: the same event always gives the same bytes. */
function canonicalJson(values: Record<string, unknown>): string {
  const keys = Object.keys(values).sort();
  const parts = keys.map((key) => {
    const value = values[key];
    return `${JSON.stringify(key)}:${typeof value === 'bigint' ? JSON.stringify(value.toString()) : JSON.stringify(value)}`;
  });
  return `{${parts.join(',')}}`;
}

/**
 * The event id dedup compares: the source's `idField` value when it declares one, otherwise the
 * SHA-256 of the converted event, so `"1"` and `1` for an int64, or an ISO time and its epoch ms,
 * hash alike and a retried push is recognised whatever the producer's formatting.
 */
export function eventId(source: SourceDef, values: Record<string, unknown>): string {
  if (source.idField) return idText(values[source.idField]);
  return hash('sha256', canonicalJson(values), 'hex');
}

const idText = (id: unknown): string => (typeof id === 'bigint' ? id.toString() : String(id));

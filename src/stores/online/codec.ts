/**
 * The online stores' shared encoding: one type-tagged string per feature value, so LMDB and Redis
 * give back exactly the type that was written (int64 stays a bigint, -0/NaN/Infinity stay floats),
 * plus the argument checks both adapters apply before they touch storage.
 *
 * Tags: `N` null, `T` true, `F` false, `i` int64 (decimal), `d` float64 (shortest round-trip decimal,
 * `-0`, `NaN`, `Infinity`), `s` string, `l` list of float64 (comma-separated, empty payload = []).
 */
import { invalidArgument, MeridianError } from '../../core/errors.js';
import { isInt64 } from '../../core/int64.js';
import type { FeatureRead, FeatureValue, OnlineRead, OnlineRow, WriteLatestOptions } from './port.js';

/** The read of a feature that has no value (shared: reads hand it out many times, so it is frozen). */
export const NOT_FOUND: FeatureRead = Object.freeze({ status: 'NOT_FOUND', value: null }) as FeatureRead;

/** The read of an entity with no stored row (or an expired one). */
export function missing(entityKey: string, featureCount: number): OnlineRead {
  return { entityKey, found: false, eventTime: null, features: new Array(featureCount).fill(NOT_FOUND) };
}

const TAG_NULL = 78; // N
const TAG_TRUE = 84; // T
const TAG_FALSE = 70; // F
const TAG_INT = 105; // i
const TAG_FLOAT = 100; // d
const TAG_STRING = 115; // s
const TAG_LIST = 108; // l

const SUPPORTED = 'null, boolean, number (float64), bigint (int64), string or number[]';

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Shortest decimal that parses back to the same double, keeping the sign of zero. */
function floatText(x: number): string {
  return x === 0 && 1 / x < 0 ? '-0' : String(x);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value !== 'object') return typeof value;
  return value === null ? 'null' : (value.constructor?.name ?? 'object');
}

/** Encodes one feature value; `field` names the argument in the INVALID_ARGUMENT error for unsupported values. */
export function encodeValue(value: FeatureValue, field: string): string {
  switch (typeof value) {
    case 'number':
      return `d${floatText(value)}`;
    case 'string':
      if (!isWellFormed(value))
        throw invalidArgument(field, 'string has a lone UTF-16 surrogate', 'send well-formed text');
      return `s${value}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'bigint':
      if (!isInt64(value)) {
        throw invalidArgument(field, `bigint ${value} is outside int64`, 'use a value in [-2^63, 2^63-1]');
      }
      return `i${value}`;
    case 'object':
      if (value === null) return 'N';
      if (Array.isArray(value)) return encodeList(value, field);
  }
  throw invalidArgument(field, `unsupported feature value type ${describe(value)}`, `use ${SUPPORTED}`);
}

function encodeList(list: readonly unknown[], field: string): string {
  let out = 'l';
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (typeof x !== 'number') {
      throw invalidArgument(
        `${field}[${i}]`,
        `list element is ${describe(x)}`,
        'lists hold float64 numbers only',
      );
    }
    out += i === 0 ? floatText(x) : `,${floatText(x)}`;
  }
  return out;
}

function corrupt(encoded: string, reason: string): MeridianError {
  const shown = encoded.length > 40 ? `${encoded.slice(0, 40)}...` : encoded;
  return new MeridianError(
    'DATA_CORRUPT',
    `online store value ${JSON.stringify(shown)} cannot be decoded: ${reason}; rewrite the view (deleteView, then materialize)`,
  );
}

/** DATA_CORRUPT for a stored row of view and entity that cannot be read at all. */
export function corruptRow(view: string, entityKey: string, reason: string): MeridianError {
  return new MeridianError(
    'DATA_CORRUPT',
    `online store row of view ${JSON.stringify(view)}, entity ${JSON.stringify(entityKey)} cannot be read: ${reason}; rewrite the view (deleteView, then materialize)`,
    { view, entityKey },
  );
}

/** Decodes what `encodeValue` produced; anything else is DATA_CORRUPT. */
export function decodeValue(encoded: string): FeatureValue {
  switch (encoded.charCodeAt(0)) {
    case TAG_FLOAT:
      return Number(encoded.slice(1));
    case TAG_STRING:
      return encoded.slice(1);
    case TAG_INT:
      try {
        return BigInt(encoded.slice(1));
      } catch {
        throw corrupt(encoded, 'bad int64');
      }
    case TAG_TRUE:
      return true;
    case TAG_FALSE:
      return false;
    case TAG_NULL:
      return null;
    case TAG_LIST:
      return encoded.length === 1 ? [] : encoded.slice(1).split(',').map(Number);
  }
  throw corrupt(encoded, 'unknown type tag');
}

/** Checks a view name: a non-empty, well-formed string without NUL (NUL separates view and entity in LMDB keys). */
export function checkView(view: unknown): asserts view is string {
  if (typeof view !== 'string' || view.length === 0) {
    throw invalidArgument(
      'view',
      `must be a non-empty string, got ${describe(view)}`,
      'pass the feature view name',
    );
  }
  if (view.includes('\u0000') || !isWellFormed(view)) {
    throw invalidArgument('view', 'must not contain NUL or lone surrogates', 'use a plain view name');
  }
}

function checkName(name: unknown, field: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidArgument(field, `${what} must be a non-empty string, got ${describe(name)}`);
  }
  if (!isWellFormed(name))
    throw invalidArgument(field, `${what} has a lone UTF-16 surrogate`, 'send well-formed text');
}

/** Checks the entity keys of a read: an array of non-empty, well-formed strings. */
export function checkEntityKeys(entityKeys: unknown): asserts entityKeys is readonly string[] {
  if (!Array.isArray(entityKeys))
    throw invalidArgument('entityKeys', `must be an array, got ${describe(entityKeys)}`);
  for (let i = 0; i < entityKeys.length; i++) checkName(entityKeys[i], `entityKeys[${i}]`, 'entity key');
}

/** Checks the feature names of a read: an array of non-empty, well-formed strings. */
export function checkFeatures(features: unknown): asserts features is readonly string[] {
  if (!Array.isArray(features))
    throw invalidArgument('features', `must be an array, got ${describe(features)}`);
  for (let i = 0; i < features.length; i++) checkName(features[i], `features[${i}]`, 'feature name');
}

/** Checks write options; answers the TTL in ms, or 0 for none. */
export function checkTtl(options: WriteLatestOptions | undefined): number {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const ttl = options.ttlMs;
  if (ttl === undefined) return 0;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
    throw invalidArgument('options.ttlMs', `must be a positive integer of milliseconds, got ${String(ttl)}`);
  }
  return ttl;
}

/** A validated row with its values already encoded, as [feature name, encoded value] pairs. */
export interface EncodedRow {
  entityKey: string;
  eventTime: number;
  fields: [string, string][];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Validates and encodes every row before anything is written, so a bad row writes nothing. */
export function encodeRows(rows: unknown): EncodedRow[] {
  if (!Array.isArray(rows)) throw invalidArgument('rows', `must be an array, got ${describe(rows)}`);
  const seen = new Map<string, number>();
  const out: EncodedRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as OnlineRow;
    if (!isPlainObject(row)) throw invalidArgument(`rows[${i}]`, `must be an object, got ${describe(row)}`);
    checkName(row.entityKey, `rows[${i}].entityKey`, 'entity key');
    const first = seen.get(row.entityKey);
    if (first !== undefined) {
      throw invalidArgument(
        `rows[${i}].entityKey`,
        `duplicates rows[${first}] (${JSON.stringify(row.entityKey)})`,
        'send one row per entity per call',
      );
    }
    seen.set(row.entityKey, i);
    if (typeof row.eventTime !== 'number' || !Number.isFinite(row.eventTime)) {
      throw invalidArgument(
        `rows[${i}].eventTime`,
        `must be finite epoch milliseconds, got ${String(row.eventTime)}`,
      );
    }
    out[i] = { entityKey: row.entityKey, eventTime: row.eventTime, fields: encodeFields(row.values, i) };
  }
  return out;
}

function encodeFields(values: unknown, i: number): [string, string][] {
  if (!isPlainObject(values)) {
    throw invalidArgument(
      `rows[${i}].values`,
      `must be an object of feature values, got ${describe(values)}`,
    );
  }
  const names = Object.keys(values);
  const fields: [string, string][] = new Array(names.length);
  for (let j = 0; j < names.length; j++) {
    const name = names[j]!;
    checkName(name, `rows[${i}].values`, 'feature name');
    fields[j] = [name, encodeValue(values[name] as FeatureValue, `rows[${i}].values.${name}`)];
  }
  return fields;
}

/**
 * Checks and normalises the entity rows of a historical request before anything reaches DuckDB, so
 * a bad row fails the whole request with its JSON path (`entities[3].user_id`) and what to send.
 */
import { invalidArgument } from '../../core/errors.js';
import type { FeatureType } from '../definitions.js';

/** A join key column the entity rows must carry, with the type its view stores it as. */
export interface KeyColumn {
  name: string;
  type: FeatureType;
}

/** A validated join key value. */
export type KeyValue = string | number | bigint | boolean;

/**
 * Validated entity rows, column by column: one array of values per key column (in `KeyColumn`
 * order) and the times in epoch milliseconds. Columns, not row objects: a million small objects
 * cost more in allocation and GC here than everything else validation does.
 */
export interface EntityColumns {
  length: number;
  keys: KeyValue[][];
  timestampsMs: Float64Array;
}

/** Entity rows above this count are refused unless the caller raises the limit. */
export const DEFAULT_MAX_ENTITY_ROWS = 1_000_000;

const ZONED_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TIMESTAMP_HINT =
  'send an ISO-8601 string with a zone (e.g. "2026-01-31T12:00:00Z") or epoch milliseconds';

/** Epoch milliseconds of an ISO-8601 string with a zone, epoch milliseconds, or a Date; undefined otherwise. */
export function parseTimestamp(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string' || !ZONED_ISO.test(value.trim())) return undefined;
  const ms = Date.parse(value.trim());
  return Number.isNaN(ms) || !isCalendarDate(value.trim()) ? undefined : ms;
}

/** Date.parse rolls "02-30" over into March; a date that does not exist is refused instead. */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/** Parses a timestamp argument or throws INVALID_ARGUMENT naming `field`. */
export function requireTimestamp(field: string, value: unknown): number {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw timestampError(field, value);
  return ms;
}

function timestampError(field: string, value: unknown) {
  if (value === undefined) return invalidArgument(field, 'is missing', TIMESTAMP_HINT);
  return invalidArgument(field, `${describe(value)} is not a timestamp`, TIMESTAMP_HINT);
}

/** Validates every entity row against the key columns; throws on the first bad field. */
export function validateEntityRows(
  rows: unknown,
  keys: readonly KeyColumn[],
  maxRows: number = DEFAULT_MAX_ENTITY_ROWS,
): EntityColumns {
  if (!Array.isArray(rows)) {
    throw invalidArgument('entities', `must be an array of entity rows, got ${describe(rows)}`);
  }
  if (rows.length === 0) {
    throw invalidArgument('entities', 'is empty', `send at least one row with ${expectedFields(keys)}`);
  }
  if (rows.length > maxRows) {
    throw invalidArgument(
      'entities',
      `has ${rows.length} rows, more than the limit of ${maxRows}`,
      `split the request into batches of at most ${maxRows} rows`,
    );
  }
  const allowed = new Set([...keys.map((k) => k.name), 'event_timestamp']);
  const out: EntityColumns = {
    length: rows.length,
    keys: keys.map(() => new Array<KeyValue>(rows.length)),
    timestampsMs: new Float64Array(rows.length),
  };
  for (let i = 0; i < rows.length; i++) validateRow(rows[i], i, keys, allowed, out);
  return out;
}

/** Builds no strings unless the row is bad: this runs once per row, up to a million times. */
function validateRow(
  row: unknown,
  i: number,
  keys: readonly KeyColumn[],
  allowed: Set<string>,
  out: EntityColumns,
): void {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw invalidArgument(`entities[${i}]`, `must be an object with ${expectedFields(keys)}`);
  }
  const record = row as Record<string, unknown>;
  for (const field in record) {
    if (!allowed.has(field)) {
      throw invalidArgument(
        `entities[${i}].${field}`,
        'is not a join key of the requested feature views',
        `send only ${expectedFields(keys)}`,
      );
    }
  }
  for (let k = 0; k < keys.length; k++) out.keys[k]![i] = keyValue(i, keys[k]!, record[keys[k]!.name]);
  const ms = parseTimestamp(record.event_timestamp);
  if (ms === undefined) throw timestampError(`entities[${i}].event_timestamp`, record.event_timestamp);
  out.timestampsMs[i] = ms;
}

const KEY_PARSERS: Record<FeatureType, { expects: string; parse(value: unknown): KeyValue | undefined }> = {
  int64: { expects: 'an integer (a JSON number up to 2^53 or a decimal string)', parse: toInt64 },
  int32: {
    expects: 'an integer from -2^31 to 2^31-1',
    parse: (v) => (Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31 - 1 ? (v as number) : undefined),
  },
  float64: { expects: 'a finite number', parse: finiteNumber },
  float32: { expects: 'a finite number', parse: finiteNumber },
  string: { expects: 'a string', parse: (v) => (typeof v === 'string' ? v : undefined) },
  bool: { expects: 'true or false', parse: (v) => (typeof v === 'boolean' ? v : undefined) },
  timestamp: { expects: 'a timestamp (ISO-8601 with a zone or epoch milliseconds)', parse: parseTimestamp },
  'float64[]': { expects: 'a scalar (array join keys are not supported)', parse: () => undefined },
};

function keyValue(row: number, key: KeyColumn, value: unknown): KeyValue {
  const parser = KEY_PARSERS[key.type];
  const parsed = value === undefined || value === null ? undefined : parser.parse(value);
  if (parsed !== undefined) return parsed;
  const field = `entities[${row}].${key.name}`;
  const type = key.type;
  if (value === undefined || value === null) {
    throw invalidArgument(field, `is ${value === null ? 'null' : 'missing'}`, `send ${parser.expects}`);
  }
  throw invalidArgument(field, `${describe(value)} is not a valid ${type}`, `send ${parser.expects}`);
}

/** A safe integer stays a number (no BigInt per row); a bigint or decimal string must fit int64. */
function toInt64(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  let n: bigint | undefined;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) n = BigInt(value);
  return n !== undefined && n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function expectedFields(keys: readonly KeyColumn[]): string {
  return [...keys.map((k) => `"${k.name}" (${k.type})`), '"event_timestamp"'].join(', ');
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Conversions between the gRPC `meridian.features.v1.Value` (decoded by proto-loader with int64 as
 * decimal strings) and the JSON shapes REST gives, so a gRPC call runs through the same validation
 * and hashes to the same event ids as the REST call with the same data.
 */
import type { FeatureType } from '../features/definitions.js';

/** A decoded Value: at most one member is set, `kind` names it. */
export interface WireValue {
  kind?: string;
  int64_val?: string | number;
  int32_val?: number;
  double_val?: number;
  float_val?: number;
  string_val?: string;
  bool_val?: boolean;
  timestamp_ms_val?: string | number;
  timestamp_val?: WireTimestamp;
  double_list_val?: { val?: number[] };
  null_val?: string | number;
}

export interface WireTimestamp {
  seconds: string | number;
  nanos: number;
}

/** A decimal int64 as REST would send it: a number when it is a safe integer, else the decimal text. */
function int64Json(value: string | number): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : String(value);
}

/** Epoch milliseconds of a Timestamp, sub-millisecond digits dropped as Date.parse drops them. */
export function timestampToMs(ts: WireTimestamp): number {
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}

/** A Timestamp of epoch milliseconds. */
export function msToTimestamp(ms: number): WireTimestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/**
 * The JSON value REST would have received: int64 as a number when safe, else its decimal text
 * (both accepted for int64 and float64 alike); timestamps as epoch ms; an unset Value is missing.
 */
export function valueToJson(value: WireValue | undefined): unknown {
  if (!value?.kind) return undefined;
  switch (value.kind) {
    case 'int64_val':
      return int64Json(value.int64_val ?? 0);
    case 'timestamp_ms_val':
      return int64Json(value.timestamp_ms_val ?? 0);
    case 'timestamp_val':
      return value.timestamp_val ? timestampToMs(value.timestamp_val) : undefined;
    case 'double_list_val':
      return value.double_list_val?.val ?? [];
    case 'null_val':
      return null;
    default:
      return value[value.kind as keyof WireValue];
  }
}

/** An event's `fields` map as the JSON object REST would have received. */
export function fieldsToJson(fields: Record<string, WireValue> | undefined): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields ?? {})) event[name] = valueToJson(value);
  return event;
}

/**
 * The Value of a JSON value inferred from its JS type, for a client that knows no schema: safe
 * integers go as int64 (the server accepts them for float64 fields too), other numbers as double.
 */
export function jsonToValue(value: unknown): WireValue {
  if (value === null || value === undefined) return { null_val: 'NULL' };
  if (typeof value === 'bigint') return { int64_val: value.toString() };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { int64_val: String(value) } : { double_val: value };
  }
  if (typeof value === 'string') return { string_val: value };
  if (typeof value === 'boolean') return { bool_val: value };
  if (value instanceof Date) return { timestamp_val: msToTimestamp(value.getTime()) };
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) {
    return { double_list_val: { val: value } };
  }
  throw new TypeError(`cannot send ${JSON.stringify(value)} as a feature value`);
}

/**
 * The Value of a REST answer's value of a known type: the online read's JSON (int64 as number or
 * string, timestamps as ISO text, null for missing) back to typed form.
 */
export function typedValue(type: FeatureType, value: unknown): WireValue {
  if (value === null || value === undefined) return {};
  switch (type) {
    case 'int64':
      return { int64_val: String(value) };
    case 'int32':
      return { int32_val: value as number };
    case 'float64':
    case 'float32':
      return { double_val: value as number };
    case 'string':
      return { string_val: value as string };
    case 'bool':
      return { bool_val: value as boolean };
    case 'timestamp':
      return {
        timestamp_val: msToTimestamp(typeof value === 'number' ? value : Date.parse(value as string)),
      };
    case 'float64[]':
      return { double_list_val: { val: value as number[] } };
  }
}

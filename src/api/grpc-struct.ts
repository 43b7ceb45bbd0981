/**
 * google.protobuf.Struct as proto-loader decodes it (`oneofs: true`: each value names its `kind`)
 * to JSON and back, for the gRPC calls whose REST twins take free-form JSON objects.
 */
import { invalidArgument } from '../core/errors.js';

export interface WireStruct {
  fields?: Record<string, WireStructValue>;
}

export interface WireStructValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: WireStruct;
  listValue?: { values?: WireStructValue[] };
}

function valueToJson(value: WireStructValue, field: string): unknown {
  switch (value.kind) {
    case 'nullValue':
    case undefined:
      return null;
    case 'numberValue':
      return value.numberValue;
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'structValue':
      return structToJson(value.structValue, field);
    case 'listValue':
      return (value.listValue?.values ?? []).map((v, i) => valueToJson(v, `${field}[${i}]`));
    default:
      throw invalidArgument(field, `has an unknown Struct value kind ${JSON.stringify(value.kind)}`);
  }
}

/** A Struct as a plain JSON object; `field` prefixes the path of a bad value. */
export function structToJson(struct: WireStruct | null | undefined, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {}))
    out[key] = valueToJson(value, `${field}.${key}`);
  return out;
}

function jsonToValue(value: unknown): WireStructValue {
  if (value === null || value === undefined) return { nullValue: 0 } as WireStructValue;
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  return { structValue: jsonToStruct(value as Record<string, unknown>) };
}

/** A plain JSON object as a Struct for proto-loader to encode. */
export function jsonToStruct(json: Record<string, unknown>): WireStruct {
  return { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, jsonToValue(v)])) };
}

/**
 * The SQL twin of `eventId` in events.ts: the same id for a file row as for the identical pushed
 * event, computed set-based by DuckDB. test/features/files.test.ts checks both agree on edge values.
 */
import type { FeatureType, SourceDef } from '../../definitions.js';
import { ident, jsNumber, jsString, literal } from './sql.js';

/** The value as `canonicalJson` writes it: int64 as a decimal string, timestamps as epoch ms. */
function canonicalValue(type: FeatureType, col: string): string {
  switch (type) {
    case 'int64':
      return `('"' || CAST(${col} AS VARCHAR) || '"')`;
    case 'int32':
      return `CAST(${col} AS VARCHAR)`;
    case 'float64':
    case 'float32':
      return jsNumber(col);
    case 'string':
      return jsString(col);
    case 'bool':
      return `(CASE WHEN ${col} THEN 'true' ELSE 'false' END)`;
    case 'timestamp':
      return `CAST(epoch_ms(${col}) AS VARCHAR)`;
    case 'float64[]':
      return `('[' || array_to_string(list_transform(${col}, e -> ${jsNumber('e')}), ',') || ']')`;
  }
}

/** The value as `String(value)` writes it, for an `idField`. */
function idText(type: FeatureType, col: string): string {
  switch (type) {
    case 'string':
      return col;
    case 'float64':
    case 'float32':
      return jsNumber(col);
    case 'bool':
      return `(CASE WHEN ${col} THEN 'true' ELSE 'false' END)`;
    case 'timestamp':
      return `CAST(epoch_ms(${col}) AS VARCHAR)`;
    case 'float64[]':
      return `array_to_string(list_transform(${col}, e -> ${jsNumber('e')}), ',')`;
    default:
      return `CAST(${col} AS VARCHAR)`;
  }
}

/**
 * The event id of each row of a relation holding the source's columns with their schema types
 * (float32 as DOUBLE, timestamps truncated to milliseconds), as a SQL expression.
 */
export function eventIdSql(source: SourceDef): string {
  if (source.idField) return idText(source.schema[source.idField]!, ident(source.idField));
  const fields = Object.keys(source.schema).sort();
  const parts = fields.map(
    (field) =>
      `${literal(`${JSON.stringify(field)}:`)} || ${canonicalValue(source.schema[field]!, ident(field))}`,
  );
  return `sha256('{' || ${parts.join(` || ',' || `)} || '}')`;
}

/**
 * Rows, schemas and parameters between JavaScript and DuckDB: every value is checked and converted
 * before anything is written, so a bad row fails the whole batch with its index and column.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  LIST,
  listValue,
  SQLNULL,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import { isInt64 } from '../../core/int64.js';
import type { OfflineRow, OfflineSchema, OfflineType } from './port.js';

/** The DuckDB column type each offline type is stored as. */
export const DUCKDB_TYPES: Record<OfflineType, string> = {
  int64: 'BIGINT',
  int32: 'INTEGER',
  float64: 'DOUBLE',
  float32: 'FLOAT',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  'float64[]': 'DOUBLE[]',
  json: 'JSON',
};

const OFFLINE_TYPES = new Map(Object.entries(DUCKDB_TYPES).map(([type, sql]) => [sql, type as OfflineType]));

/** A table column as the catalog describes it. */
export interface Column {
  name: string;
  /** Null when the table (made by SQL) has a type append cannot write. */
  type: OfflineType | null;
  sqlType: string;
  nullable: boolean;
  hasDefault: boolean;
}

/** Columns from `information_schema.columns` rows, in table order. */
export function columnsFromCatalog(rows: Record<string, unknown>[]): Column[] {
  return rows.map((row) => ({
    name: String(row.column_name),
    type: OFFLINE_TYPES.get(String(row.data_type)) ?? null,
    sqlType: String(row.data_type),
    nullable: row.is_nullable === 'YES',
    hasDefault: row.column_default !== null,
  }));
}

/** Throws INVALID_ARGUMENT unless the schema is a non-empty map of distinct names to known types. */
export function validateSchema(schema: unknown): OfflineSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw invalidArgument('schema', 'must be an object of column name -> type');
  }
  const seen = new Set<string>();
  const entries = Object.entries(schema);
  if (entries.length === 0) throw invalidArgument('schema', 'must have at least one column');
  for (const [name, type] of entries) {
    if (!Object.hasOwn(DUCKDB_TYPES, type)) {
      throw invalidArgument(
        `schema.${name}`,
        `unknown type ${JSON.stringify(type)}`,
        `use one of ${Object.keys(DUCKDB_TYPES).join(', ')}`,
      );
    }
    if (seen.has(name.toLowerCase())) {
      throw invalidArgument(`schema.${name}`, 'repeats another column name (SQL names ignore case)');
    }
    seen.add(name.toLowerCase());
  }
  return schema as OfflineSchema;
}

function schemaConflict(table: string, column: string, problem: string): MeridianError {
  return new MeridianError(
    'FAILED_PRECONDITION',
    `table ${table} already exists with a different schema: column ${column} ${problem}; use a new table name or migrate the table with ALTER TABLE through query()`,
    { table, column },
  );
}

/** Throws FAILED_PRECONDITION naming the first column where the existing table differs from the schema. */
export function compareSchema(table: string, existing: Column[], schema: OfflineSchema): void {
  const byName = new Map(existing.map((column) => [column.name, column]));
  for (const [name, type] of Object.entries(schema)) {
    const column = byName.get(name);
    if (!column) throw schemaConflict(table, name, `is missing (the schema wants ${type})`);
    if (column.sqlType !== DUCKDB_TYPES[type]) {
      throw schemaConflict(
        table,
        name,
        `is ${column.sqlType} but the schema wants ${type} (${DUCKDB_TYPES[type]})`,
      );
    }
  }
  const extra = existing.find((column) => !Object.hasOwn(schema, column.name));
  if (extra) throw schemaConflict(table, extra.name, `(${extra.sqlType}) exists but is not in the schema`);
}

const BAD = Symbol('bad');
const DEFAULT = Symbol('default');
const LIST_DOUBLE = LIST(DOUBLE);

interface Codec<T> {
  expects: string;
  convert(value: unknown): T | typeof BAD;
  write(appender: DuckDBAppender, value: T): void;
}

const codec = <T>(c: Codec<T>): Codec<unknown> => c as Codec<unknown>;
const isNumber = (value: unknown): value is number => typeof value === 'number';

function toInt64(value: unknown): bigint | typeof BAD {
  if (typeof value === 'bigint') return isInt64(value) ? value : BAD;
  return Number.isSafeInteger(value) ? BigInt(value as number) : BAD;
}

function toTimestamp(value: unknown): DuckDBTimestampValue | typeof BAD {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return BAD;
  return new DuckDBTimestampValue(BigInt(Math.round(ms * 1000)));
}

function toJsonText(value: unknown): string | typeof BAD {
  try {
    return JSON.stringify(value) ?? BAD;
  } catch {
    return BAD;
  }
}

const CODECS: Record<OfflineType, Codec<unknown>> = {
  int64: codec({
    expects: 'a bigint or a safe integer',
    convert: toInt64,
    write: (a, v) => a.appendBigInt(v),
  }),
  int32: codec({
    expects: 'an integer from -2^31 to 2^31-1',
    convert: (v) =>
      Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 ? (v as number) : BAD,
    write: (a, v) => a.appendInteger(v),
  }),
  float64: codec({
    expects: 'a number',
    convert: (v) => (isNumber(v) ? v : BAD),
    write: (a, v) => a.appendDouble(v),
  }),
  float32: codec({
    expects: 'a number',
    convert: (v) => (isNumber(v) ? v : BAD),
    write: (a, v) => a.appendFloat(v),
  }),
  string: codec({
    expects: 'a string',
    convert: (v) => (typeof v === 'string' ? v : BAD),
    write: (a, v) => a.appendVarchar(v),
  }),
  bool: codec({
    expects: 'a boolean',
    convert: (v) => (typeof v === 'boolean' ? v : BAD),
    write: (a, v) => a.appendBoolean(v),
  }),
  timestamp: codec({
    expects: 'a valid Date or epoch milliseconds',
    convert: toTimestamp,
    write: (a, v) => a.appendTimestamp(v),
  }),
  'float64[]': codec({
    expects: 'an array of numbers',
    convert: (v) => (Array.isArray(v) && v.every(isNumber) ? (v as number[]) : BAD),
    write: (a, v) => a.appendList(v, LIST_DOUBLE),
  }),
  json: codec({
    expects: 'a JSON-serialisable value',
    convert: toJsonText,
    write: (a, v) => a.appendVarchar(v),
  }),
};

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  }
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'an invalid Date' : `Date ${value.toISOString()}`;
  if (Array.isArray(value))
    return `an array of ${value.length} items (${value.map((item) => typeof item).join(', ')})`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function rowError(row: number, column: string | null, problem: string): MeridianError {
  const field = column === null ? `rows[${row}]` : `rows[${row}].${column}`;
  return new MeridianError('INVALID_ARGUMENT', `${field}: ${problem}; nothing was written`, {
    field,
    row,
    ...(column === null ? {} : { column }),
  });
}

type CellPreparer = (value: unknown, row: number) => unknown;

/** One checking converter per column, built once per batch so the per-cell work is a single call. */
function cellPreparer(column: Column): CellPreparer {
  const { name, type } = column;
  const codec = type === null ? null : CODECS[type];
  return (value, row) => {
    if (value === undefined && column.hasDefault) return DEFAULT;
    if (value === undefined || value === null) {
      if (column.nullable) return null;
      throw rowError(row, name, `is ${value === null ? 'null' : 'missing'} but the column is NOT NULL`);
    }
    if (codec === null) throw rowError(row, name, `has type ${column.sqlType}, which append cannot write`);
    const converted = codec.convert(value);
    if (converted === BAD)
      throw rowError(row, name, `expected ${type} (${codec.expects}), got ${describeValue(value)}`);
    return converted;
  };
}

/** Checks and converts every row before anything is written: one flat array, row after row. */
export function prepareRows(table: string, columns: Column[], rows: readonly OfflineRow[]): unknown[] {
  const known = new Set(columns.map((column) => column.name));
  const names = columns.map((column) => column.name);
  const preparers = columns.map(cellPreparer);
  const cells = new Array<unknown>(rows.length * columns.length);
  let next = 0;
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw rowError(index, null, 'is not an object of column values');
    }
    for (const key in row) {
      if (!known.has(key))
        throw rowError(index, key, `is not a column of table ${table} (columns: ${names.join(', ')})`);
    }
    for (let c = 0; c < names.length; c++) cells[next++] = preparers[c]!(row[names[c]!], index);
  }
  return cells;
}

/** Feeds prepared cells to the Appender row by row. */
export function writeRows(
  appender: DuckDBAppender,
  columns: Column[],
  cells: unknown[],
  rowCount: number,
): void {
  const codecs = columns.map((column) => (column.type ? CODECS[column.type] : null));
  let next = 0;
  for (let row = 0; row < rowCount; row++) {
    for (const c of codecs) {
      const value = cells[next++];
      if (value === null) appender.appendNull();
      else if (value === DEFAULT) appender.appendDefault();
      else c?.write(appender, value);
    }
    appender.endRow();
  }
}

function paramOf(value: unknown, index: number): [DuckDBValue, DuckDBType] {
  if (value === null || value === undefined) return [null, SQLNULL];
  if (typeof value === 'boolean') return [value, BOOLEAN];
  if (typeof value === 'string') return [value, VARCHAR];
  if (typeof value === 'bigint') {
    if (isInt64(value)) return [value, BIGINT];
    throw invalidArgument(
      `params[${index}]`,
      `${value} is outside the int64 range`,
      'pass a bigint from -(2^63) to 2^63-1, or a number for a float',
    );
  }
  if (typeof value === 'number') {
    // A number beyond 2^53 is a float that has already lost integer precision: bind it as one.
    if (!Number.isSafeInteger(value)) return [value, DOUBLE];
    return [value, Math.abs(value) < 2 ** 31 ? INTEGER : BIGINT];
  }
  const timestamp = value instanceof Date ? toTimestamp(value) : BAD;
  if (timestamp !== BAD) return [timestamp, TIMESTAMP];
  if (Array.isArray(value) && value.every(isNumber)) return [listValue(value), LIST_DOUBLE];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return [listValue(value), LIST(VARCHAR)];
  throw invalidArgument(
    `params[${index}]`,
    `unsupported value ${describeValue(value)}`,
    'use null, boolean, number, bigint, string, a valid Date, or an array of numbers or of strings',
  );
}

/** Converts `$1`-style parameters to DuckDB values with explicit types (Date -> TIMESTAMP, bigint -> BIGINT). */
export function toParams(params: readonly unknown[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  const pairs = params.map(paramOf);
  return { values: pairs.map(([value]) => value), types: pairs.map(([, type]) => type) };
}

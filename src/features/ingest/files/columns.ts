/**
 * Per-column SQL for a staged file: the value converted to the schema type (NULL when it does not
 * convert) and the reason a row is bad, both as expressions DuckDB evaluates over the whole file.
 */
import type { FeatureType } from '../../definitions.js';
import { literal } from './sql.js';

/** A staged column: its name and DuckDB type, or null when the file has no such column. */
export interface StagedColumn {
  name: string;
  type: FeatureType;
  rawType: string | null;
}

const INTEGER_TEXT = `'^\\s*[-+]?\\d+\\s*$'`;
const ZONED_TEXT = `'[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*(Z|[+-]\\d{2}(:?\\d{2})?)\\s*$'`;

const finite = (x: string): string => `(CASE WHEN isfinite(${x}) THEN ${x} END)`;
const finiteList = (x: string): string =>
  `(CASE WHEN len(list_filter(${x}, e -> e IS NULL OR NOT isfinite(e))) = 0 THEN ${x} END)`;
/** Epoch milliseconds precision, as a pushed event's `Date.parse` has. */
const toMillis = (x: string): string => `epoch_ms(epoch_ms(${x}))`;

function fromText(type: FeatureType, c: string): string {
  switch (type) {
    case 'int64':
      return `(CASE WHEN regexp_matches(${c}, ${INTEGER_TEXT}) THEN TRY_CAST(trim(${c}) AS BIGINT) END)`;
    case 'int32':
      return `(CASE WHEN regexp_matches(${c}, ${INTEGER_TEXT}) THEN TRY_CAST(trim(${c}) AS INTEGER) END)`;
    case 'float64':
    case 'float32':
      return finite(`TRY_CAST(trim(${c}) AS DOUBLE)`);
    case 'string':
      return c;
    case 'bool':
      return `TRY_CAST(trim(${c}) AS BOOLEAN)`;
    case 'timestamp':
      return toMillis(`(CASE WHEN regexp_matches(${c}, ${INTEGER_TEXT}) THEN epoch_ms(TRY_CAST(trim(${c}) AS BIGINT))
        WHEN regexp_matches(${c}, ${ZONED_TEXT}) THEN timezone('UTC', TRY_CAST(trim(${c}) AS TIMESTAMPTZ))
        ELSE TRY_CAST(trim(${c}) AS TIMESTAMP) END)`);
    case 'float64[]':
      return finiteList(`TRY_CAST(${c} AS DOUBLE[])`);
  }
}

const isFractional = (rawType: string): boolean => /^(DOUBLE|FLOAT|DECIMAL)/.test(rawType);

function fromNative(type: FeatureType, c: string, rawType: string): string {
  switch (type) {
    case 'int64':
    case 'int32': {
      const sqlType = type === 'int64' ? 'BIGINT' : 'INTEGER';
      if (isFractional(rawType))
        return `(CASE WHEN ${c} = trunc(${c}) THEN TRY_CAST(${c} AS ${sqlType}) END)`;
      return `TRY_CAST(${c} AS ${sqlType})`;
    }
    case 'float64':
    case 'float32':
      return finite(`TRY_CAST(${c} AS DOUBLE)`);
    case 'string':
      return `TRY_CAST(${c} AS VARCHAR)`;
    case 'bool':
      return `TRY_CAST(${c} AS BOOLEAN)`;
    case 'timestamp':
      if (rawType.startsWith('TIMESTAMP WITH TIME ZONE')) return toMillis(`timezone('UTC', ${c})`);
      if (/INT/.test(rawType)) return toMillis(`epoch_ms(TRY_CAST(${c} AS BIGINT))`);
      return toMillis(`TRY_CAST(${c} AS TIMESTAMP)`);
    case 'float64[]':
      return finiteList(`TRY_CAST(${c} AS DOUBLE[])`);
  }
}

/** The column's value in its schema type (float32 kept as DOUBLE, as a pushed number is), or NULL. */
export function typedSql(column: StagedColumn, c: string): string {
  if (column.rawType === null) return 'NULL';
  return column.rawType === 'VARCHAR' ? fromText(column.type, c) : fromNative(column.type, c, column.rawType);
}

const EXPECTS: Record<FeatureType, string> = {
  int64: 'an integer',
  int32: 'an integer from -2^31 to 2^31-1',
  float64: 'a finite number',
  float32: 'a finite number',
  string: 'text',
  bool: 'true or false',
  timestamp: 'an ISO-8601 time (with a zone, else UTC is assumed) or epoch milliseconds',
  'float64[]': 'a list of finite numbers such as [1.5, 2]',
};

export interface BadRowRules {
  isTimestamp: boolean;
  isJoinKey: boolean;
  /** Latest event time accepted, epoch ms. */
  maxEventMs: number;
  maxFutureMs: number;
}

/** Why the column's value makes its row bad, or NULL when it is fine. */
export function reasonSql(column: StagedColumn, c: string, rules: BadRowRules): string {
  if (column.rawType === null) {
    return literal(`is missing: the file has no column "${column.name}"`);
  }
  const typed = typedSql(column, c);
  const whens = [
    `WHEN ${c} IS NULL THEN ${literal(rules.isTimestamp ? 'the event timestamp is missing' : 'is missing')}`,
    `WHEN ${typed} IS NULL THEN ${literal(`is not ${column.type}: send ${EXPECTS[column.type]}`)}`,
  ];
  if (rules.isTimestamp) {
    const limit = `epoch_ms(${Math.trunc(rules.maxEventMs)}::BIGINT)`;
    const problem = `is more than ${rules.maxFutureMs / 1000}s in the future: send the time the event happened`;
    whens.push(`WHEN ${typed} > ${limit} THEN ${literal(problem)}`);
  }
  if (rules.isJoinKey && column.type === 'string') {
    whens.push(`WHEN ${typed} = '' THEN ${literal('is an empty join key: send a non-empty value')}`);
  }
  return `(CASE ${whens.join(' ')} END)`;
}

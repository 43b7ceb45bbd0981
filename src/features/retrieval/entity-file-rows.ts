/**
 * Entity rows from a caller's CSV or Parquet file, read set-based by DuckDB and never row by row in
 * JavaScript. The file is checked before the join: its columns first (every join key and
 * `event_timestamp`, nothing else), then every value, so a bad file fails with the column, the row
 * and what to send instead.
 */
import { invalidArgument } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import { DUCKDB_TYPES } from '../../stores/offline/rows.js';
import type { KeyColumn } from './entity-rows.js';
import { ident, literal, ROW, rowType } from './pit-sql.js';

/** A file of entity rows: one column per join key plus `event_timestamp`. */
export interface EntityFile {
  path: string;
  format: 'csv' | 'parquet';
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
const FLOAT = /^(FLOAT|DOUBLE|DECIMAL.*)$/;
const TIMESTAMP_HINT =
  'use ISO-8601 text with a zone (e.g. 2026-01-31T12:00:00Z), epoch milliseconds or a Parquet timestamp';
/** Text the inline form accepts as a timestamp: ISO-8601 with a zone, or epoch milliseconds. */
const ZONED_ISO_RE =
  '\\s*\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:?\\d{2})\\s*';

/** Where each row sits in the file (0-based), so the answer keeps the file's order. */
function source(file: EntityFile): { from: string; position: string } {
  const path = literal(file.path);
  if (file.format === 'parquet') {
    return { from: `read_parquet(${path}, file_row_number = true)`, position: 'file_row_number' };
  }
  return {
    from: `read_csv(${path}, header = true, all_varchar = true) WITH ORDINALITY`,
    position: '(ordinality - 1)',
  };
}

/** The file's columns and their DuckDB types; an unreadable file is an INVALID_ARGUMENT on `entities`. */
async function describeFile(offline: OfflineStore, file: EntityFile): Promise<Map<string, string>> {
  const read = file.format === 'parquet' ? 'read_parquet' : 'read_csv';
  const options = file.format === 'csv' ? ', header = true, all_varchar = true' : '';
  try {
    const rows = await offline.query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM ${read}(${literal(file.path)}${options})`,
    );
    return new Map(rows.map((r) => [r.column_name, r.column_type]));
  } catch (err) {
    throw invalidArgument(
      'entities',
      `the ${file.format} file cannot be read (${firstLine(err)})`,
      `send a ${file.format === 'csv' ? 'CSV file with a header row' : 'Parquet file'}`,
    );
  }
}

const firstLine = (err: unknown): string => String((err as Error)?.message ?? err).split('\n')[0]!;

/** An expression giving a timestamp column as a UTC TIMESTAMP, or NULL where the value is not one. */
function timestampExpr(column: string, type: string): string {
  const c = ident(column);
  if (type === 'TIMESTAMP' || type.startsWith('TIMESTAMP_')) return `${c}::TIMESTAMP`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return `timezone('UTC', ${c})`;
  if (INTEGER.test(type)) return `epoch_ms(TRY_CAST(${c} AS BIGINT))`;
  if (type === 'VARCHAR') {
    return (
      `CASE WHEN regexp_full_match(${c}, '\\s*-?\\d{1,15}\\s*') THEN epoch_ms(trim(${c})::BIGINT) ` +
      `WHEN regexp_full_match(${c}, '${ZONED_ISO_RE}') THEN timezone('UTC', TRY_CAST(trim(${c}) AS TIMESTAMPTZ)) END`
    );
  }
  return 'NULL::TIMESTAMP';
}

/** An expression giving a key column as its view's type, or NULL where the value does not fit it. */
function keyExpr(key: KeyColumn, type: string): string {
  if (key.type === 'timestamp') return timestampExpr(key.name, type);
  const c = ident(key.name);
  const target = DUCKDB_TYPES[key.type];
  const integral = key.type === 'int64' || key.type === 'int32';
  if (integral && type === 'VARCHAR') {
    return `CASE WHEN regexp_full_match(${c}, '\\s*-?\\d+\\s*') THEN TRY_CAST(trim(${c}) AS ${target}) END`;
  }
  if (integral && FLOAT.test(type))
    return `CASE WHEN ${c} = trunc(${c}) THEN TRY_CAST(${c} AS ${target}) END`;
  if (key.type === 'string' && type !== 'VARCHAR') return `${c}::VARCHAR`;
  return `TRY_CAST(${c} AS ${target})`;
}

function columnsOf(keys: readonly KeyColumn[]): { name: string; expects: string }[] {
  return [
    ...keys.map((k) => ({ name: k.name, expects: k.type })),
    { name: 'event_timestamp', expects: 'timestamp' },
  ];
}

/** Every join key and `event_timestamp` must be a column, and no other column may be. */
function checkColumns(found: Map<string, string>, keys: readonly KeyColumn[]): void {
  const wanted = columnsOf(keys);
  for (const { name, expects } of wanted) {
    if (!found.has(name)) {
      throw invalidArgument(
        `entities.${name}`,
        `the file has no column "${name}"`,
        `add a "${name}" column (${expects}); the file needs ${wanted.map((w) => `"${w.name}"`).join(', ')}`,
      );
    }
  }
  const allowed = new Set(wanted.map((w) => w.name));
  for (const name of found.keys()) {
    if (!allowed.has(name)) {
      throw invalidArgument(
        `entities.${name}`,
        'is not a join key of the requested feature views',
        `remove the column; the file needs only ${wanted.map((w) => `"${w.name}"`).join(', ')}`,
      );
    }
  }
}

interface FirstBad {
  rows: bigint;
  column: string | null;
  position: bigint | null;
  value: string | null;
}

/** One scan finds the row count and the first value (in file order) that is missing or does not fit. */
async function firstBadValue(
  offline: OfflineStore,
  file: EntityFile,
  exprs: { name: string; expr: string }[],
): Promise<FirstBad> {
  const { from, position } = source(file);
  const bad = exprs.map(({ name, expr }) => `(${expr}) IS NULL AS ${ident(`bad:${name}`)}`);
  const badAt = exprs.map(({ name }) => `CASE WHEN ${ident(`bad:${name}`)} THEN ${literal(name)} END`);
  const values = exprs.map(
    ({ name }) => `CASE WHEN ${ident(`bad:${name}`)} THEN ${ident(name)}::VARCHAR END`,
  );
  const [answer] = await offline.query<FirstBad>(
    `WITH f AS (SELECT ${position} AS __pit_pos, *, ${bad.join(', ')} FROM ${from}),
     b AS (SELECT __pit_pos AS pos, coalesce(${badAt.join(', ')}) AS col, coalesce(${values.join(', ')}) AS val FROM f)
     SELECT (SELECT count(*) FROM f) AS rows, arg_min(col, pos) AS column, min(pos) AS position,
            arg_min(val, pos) AS value
     FROM b WHERE col IS NOT NULL`,
  );
  return answer!;
}

function badValueError(bad: FirstBad, keys: readonly KeyColumn[]) {
  const row = Number(bad.position);
  const column = bad.column!;
  const expects = columnsOf(keys).find((c) => c.name === column)!.expects;
  const field = `entities[${row}].${column}`;
  const hint = expects === 'timestamp' ? TIMESTAMP_HINT : `use ${expects} values`;
  const where = `(data row ${row + 1} of the file)`;
  if (bad.value === null) return invalidArgument(field, `is empty ${where}`, `fill it in; ${hint}`);
  return invalidArgument(field, `${JSON.stringify(bad.value)} is not a valid ${expects} ${where}`, hint);
}

/**
 * Checks the file's columns and values and returns the entity relation for `pointInTimeSql`:
 * `__pit_row` (the file's order), the keys typed as their views store them, and `event_timestamp`.
 */
export async function entityFileSelect(
  offline: OfflineStore,
  file: EntityFile,
  keys: readonly KeyColumn[],
  maxRows: number,
): Promise<string> {
  const types = await describeFile(offline, file);
  checkColumns(types, keys);
  const exprs = [
    ...keys.map((k) => ({ name: k.name, expr: keyExpr(k, types.get(k.name)!) })),
    { name: 'event_timestamp', expr: timestampExpr('event_timestamp', types.get('event_timestamp')!) },
  ];
  const bad = await firstBadValue(offline, file, exprs);
  if (bad.rows === 0n) {
    throw invalidArgument('entities', 'the file has no rows', 'send at least one entity row');
  }
  if (bad.rows > BigInt(maxRows)) {
    throw invalidArgument(
      'entities',
      `the file has ${bad.rows} rows, more than the limit of ${maxRows}`,
      `split it into files of at most ${maxRows} rows`,
    );
  }
  if (bad.column !== null) throw badValueError(bad, keys);
  const { from, position } = source(file);
  const select = exprs.map(({ name, expr }) => `${expr} AS ${ident(name)}`);
  return `SELECT ${position}::${rowType(bad.rows)} AS ${ROW}, ${select.join(', ')} FROM ${from}`;
}

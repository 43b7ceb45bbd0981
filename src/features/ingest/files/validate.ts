/**
 * Finds a staged file's bad rows set-based: one query per file lists every (row, column) whose
 * value is missing, does not convert to the schema type, is a timestamp past the future margin or
 * an empty join key. The good rows are then converted into a table with their event ids.
 */
import type { OfflineStore } from '../../../stores/offline/port.js';
import type { SourceDef } from '../../definitions.js';
import type { Violation } from '../../quality/hooks.js';
import { reasonSql, type StagedColumn, typedSql } from './columns.js';
import { eventIdSql } from './event-id-sql.js';
import { ident, literal } from './sql.js';

/** One bad value of a file: its 1-based data row, column, value as text and what is wrong. */
export interface RowError {
  row: number;
  column: string;
  value: string | null;
  reason: string;
}

export interface ValidationRules {
  joinKeys: ReadonlySet<string>;
  now: number;
  maxFutureMs: number;
}

/** Creates `badTable` (row, column, value, reason, position) from the staged table `raw`. */
export async function findBadRows(
  offline: OfflineStore,
  source: SourceDef,
  columns: readonly StagedColumn[],
  tables: { raw: string; bad: string },
  rules: ValidationRules,
): Promise<void> {
  const selects = columns.map((column, position) => {
    const c = ident(column.name);
    const reason = reasonSql(column, c, {
      isTimestamp: column.name === source.timestampField,
      isJoinKey: rules.joinKeys.has(column.name),
      maxEventMs: rules.now + rules.maxFutureMs,
      maxFutureMs: rules.maxFutureMs,
    });
    const value = column.rawType === null ? 'NULL' : `left(CAST(${c} AS VARCHAR), 200)`;
    return `SELECT rowid + 1 AS "row", ${literal(column.name)} AS "column", ${value} AS "value", ${reason} AS reason, ${position} AS position FROM ${ident(tables.raw)}`;
  });
  await offline.query(
    `CREATE TEMP TABLE ${ident(tables.bad)} AS SELECT * FROM (${selects.join(' UNION ALL ')}) AS t WHERE reason IS NOT NULL`,
  );
}

/** How many rows the file has and are bad, and the first `limit` bad values in file order. */
export async function summarizeBadRows(
  offline: OfflineStore,
  tables: { raw: string; bad: string },
  limit: number,
): Promise<{ rows: number; rejected: number; errors: RowError[] }> {
  const [counts] = await offline.query<{ rows: bigint; rejected: bigint }>(
    `SELECT (SELECT count(*) FROM ${ident(tables.raw)}) AS "rows", (SELECT count(DISTINCT "row") FROM ${ident(tables.bad)}) AS rejected`,
  );
  const errors = await offline.query<{ row: bigint; column: string; value: string | null; reason: string }>(
    `SELECT "row", "column", "value", reason FROM ${ident(tables.bad)} ORDER BY "row", position LIMIT ${limit}`,
  );
  return {
    rows: Number(counts?.rows ?? 0),
    rejected: Number(counts?.rejected ?? 0),
    errors: errors.map((e) => ({ row: Number(e.row), column: e.column, value: e.value, reason: e.reason })),
  };
}

/** Creates `good`: the rows with no bad value, converted, with `__row` and `__event_id`. */
export async function convertGoodRows(
  offline: OfflineStore,
  source: SourceDef,
  columns: readonly StagedColumn[],
  tables: { raw: string; bad: string; good: string },
): Promise<void> {
  const typed = columns.map((column) => `${typedSql(column, ident(column.name))} AS ${ident(column.name)}`);
  await offline.query(
    `CREATE TEMP TABLE ${ident(tables.good)} AS SELECT *, ${eventIdSql(source)} AS __event_id FROM (
       SELECT rowid + 1 AS __row, ${typed.join(', ')} FROM ${ident(tables.raw)}
       WHERE rowid + 1 NOT IN (SELECT "row" FROM ${ident(tables.bad)})) AS g`,
  );
}

/**
 * The file's bad values as violations, one per column with their count and the first one as the
 * sample (one query, run only for a file with bad rows). A bad value is an invalid argument, as a
 * bad pushed value is.
 */
export async function badValueViolations(offline: OfflineStore, bad: string): Promise<Violation[]> {
  const found = await offline.query<{ column: string; n: bigint; row: bigint; reason: string }>(
    `SELECT "column", count(*) AS n, min("row") AS "row", arg_min(reason, "row") AS reason
     FROM ${ident(bad)} GROUP BY "column" ORDER BY "column"`,
  );
  return found.map((f) => ({
    field: f.column,
    code: 'INVALID_ARGUMENT',
    count: Number(f.n),
    sample: `row ${f.row}, ${f.column}: ${f.reason}`,
  }));
}

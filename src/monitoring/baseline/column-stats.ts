/**
 * The set-based statistics of a baseline, a few aggregate queries over the view `clean` whatever the
 * number of columns, never a loop over rows in JavaScript: counts and moments in one wide scan,
 * exact distinct counts for the columns whose HyperLogLog estimate is near or under DISTINCT_CAP,
 * then quantiles and bins (numeric-stats.ts) and top categories (categories.ts).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { topCategories } from './categories.js';
import type { PlannedColumn } from './columns.js';
import { numericShapes } from './numeric-stats.js';
import { type ColumnProfile, DISTINCT_CAP } from './profile.js';
import { sqlIdent } from './reference.js';

type Row = Record<string, unknown>;

/** Estimates above this many times the cap skip the exact count: HyperLogLog errs by a few percent. */
const ESTIMATE_MARGIN = 1.5;

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Creates the view `clean` over `ref`, the i-th planned column as `c{i}`: numeric columns as DOUBLE
 * with NaN and ±Infinity as NULL (JSON cannot carry them and they would poison every moment),
 * categorical ones as VARCHAR.
 */
export async function createCleanView(con: DuckDBConnection, columns: PlannedColumn[]): Promise<void> {
  const select = columns.map((c, i) => {
    const id = sqlIdent(c.name);
    const expr =
      c.type === 'numerical'
        ? `CASE WHEN isfinite(CAST(${id} AS DOUBLE)) THEN CAST(${id} AS DOUBLE) END`
        : `CAST(${id} AS VARCHAR)`;
    return `${expr} AS c${i}`;
  });
  await con.run(`CREATE VIEW clean AS SELECT ${select.join(', ')} FROM ref`);
}

async function one(con: DuckDBConnection, sql: string): Promise<Row> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS()[0] ?? {};
}

function summarySql(columns: PlannedColumn[]): string {
  const parts = columns.flatMap((c, i) => {
    const base = [`count(c${i}) AS n${i}`, `approx_count_distinct(c${i}) AS d${i}`];
    if (c.type === 'categorical') return base;
    const moments = [`min(c${i}) AS mn${i}`, `max(c${i}) AS mx${i}`, `avg(c${i}) AS av${i}`];
    return [...base, ...moments, `stddev_pop(c${i}) AS sd${i}`];
  });
  return `SELECT count(*) AS rows, ${parts.join(', ')} FROM clean`;
}

/** Replaces the estimates `d{i}` that could be under the cap with exact counts. */
async function exactDistinct(con: DuckDBConnection, row: Row, columns: PlannedColumn[]): Promise<void> {
  const near = columns.map((_, i) => i).filter((i) => Number(row[`d${i}`]) <= DISTINCT_CAP * ESTIMATE_MARGIN);
  if (near.length === 0) return;
  const exact = await one(
    con,
    `SELECT ${near.map((i) => `count(DISTINCT c${i}) AS d${i}`).join(', ')} FROM clean`,
  );
  for (const i of near) row[`d${i}`] = exact[`d${i}`];
}

function baseOf(c: PlannedColumn, row: Row, i: number, rows: number) {
  const count = Number(row[`n${i}`]);
  const distinct = Number(row[`d${i}`]);
  return {
    role: c.role,
    sourceType: c.sourceType,
    count,
    nulls: rows - count,
    nullShare: (rows - count) / rows,
    distinct: Math.min(distinct, DISTINCT_CAP),
    distinctCapped: distinct > DISTINCT_CAP,
  };
}

function countsOf(row: Row, columns: PlannedColumn[], type: PlannedColumn['type']): Map<string, number> {
  const entries = columns.flatMap((c, i) =>
    c.type === type ? [[`c${i}`, Number(row[`n${i}`])] as const] : [],
  );
  return new Map(entries);
}

/** The profile of every planned column, keyed by column name, in file order. */
export async function profileColumns(
  con: DuckDBConnection,
  columns: PlannedColumn[],
): Promise<Record<string, ColumnProfile>> {
  const row = await one(con, summarySql(columns));
  await exactDistinct(con, row, columns);
  const rows = Number(row.rows);
  const shapes = await numericShapes(con, countsOf(row, columns, 'numerical'));
  const categories = await topCategories(con, countsOf(row, columns, 'categorical'));
  const out: Record<string, ColumnProfile> = {};
  columns.forEach((c, i) => {
    const base = baseOf(c, row, i, rows);
    if (c.type === 'numerical') {
      out[c.name] = {
        type: 'numerical',
        ...base,
        min: numOrNull(row[`mn${i}`]),
        max: numOrNull(row[`mx${i}`]),
        mean: numOrNull(row[`av${i}`]),
        std: numOrNull(row[`sd${i}`]),
        ...(shapes.get(`c${i}`) ?? { quantiles: null, bins: null }),
      };
      return;
    }
    const top = categories.get(`c${i}`) ?? [];
    const kept = top.reduce((s, t) => s + t.count, 0);
    const other = {
      categories: base.distinct - top.length,
      count: base.count - kept,
      share: base.count === 0 ? 0 : (base.count - kept) / base.count,
    };
    out[c.name] = { type: 'categorical', ...base, categories: top, other };
  });
  return out;
}

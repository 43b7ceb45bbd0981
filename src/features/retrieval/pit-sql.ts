/**
 * The point-in-time join as one DuckDB statement: the entity rows are read once (from the staged CSV
 * file of inline rows, or from the caller's own CSV or Parquet file) and each view is joined with one
 * ASOF LEFT JOIN, so the work is one pass per view, never one per row.
 */
import { DUCKDB_TYPES } from '../../stores/offline/rows.js';
import type { ResolvedView } from '../catalog.js';
import type { FeatureType } from '../definitions.js';
import type { KeyColumn } from './entity-rows.js';

/** A requested view: its features in request order and the columns its table has (null = no table yet). */
export interface ViewPlan {
  view: ResolvedView;
  table: string;
  features: { feature: string; ref: string }[];
  columns: ReadonlySet<string> | null;
}

/** The output column of one requested feature, in request order. */
export interface FeatureColumn {
  view: string;
  feature: string;
  ref: string;
}

/** The entity relation's column holding each row's position in the input, which orders the answer. */
export const ROW = '__pit_row';
const SECONDS = '__pit_s';
const MS = '__pit_ms';
const PROBE = '__pit_probe';
const ORDER = '__pit_order';
const EVENT = '__pit_event';

/** Quotes an SQL identifier. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** Quotes an SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** The DuckDB type a key column has in the entity CSV file (timestamps travel as epoch milliseconds). */
export function csvType(type: FeatureType): string {
  return type === 'timestamp' ? 'BIGINT' : DUCKDB_TYPES[type];
}

/**
 * The SELECT of the historical rows in input order. `entities` is a SELECT of `__pit_row`, the keys
 * and `event_timestamp` (TIMESTAMP). `$1`, when `asOf` is set, is the system time: only rows created
 * at or before it count.
 */
export function pointInTimeSql(
  entities: string,
  keys: readonly KeyColumn[],
  plans: readonly ViewPlan[],
  columns: readonly FeatureColumn[],
  asOf: boolean,
): string {
  const joined = plans.filter(isJoinable);
  const aliases = new Map(joined.map((plan, i) => [plan.view.name, `v${i}`]));
  const select = [
    ...keys.map((k) => `e.${ident(k.name)}`),
    'e.event_timestamp',
    ...columns.map((c) => featureExpr(c, plans, aliases)),
  ];
  const joins = joined.map((plan) => asofJoin(plan, aliases.get(plan.view.name)!, asOf));
  return [
    `WITH e AS (SELECT *, ${PROBE_EXPR} AS ${PROBE} FROM (${entities}))`,
    `SELECT ${select.join(', ')}`,
    'FROM e',
    ...joins,
    `ORDER BY e.${ROW}`,
  ].join('\n');
}

/** A view is joined only when its table exists with its join keys and both timestamps. */
function isJoinable(plan: ViewPlan): boolean {
  const needed = [...plan.view.keys.map((k) => k.name), 'event_timestamp', 'created_timestamp'];
  return plan.columns !== null && needed.every((name) => plan.columns?.has(name));
}

// Every (event, created, rowid) of a view row compares at or below this probe when its event is at
// or before t, so ASOF picks the latest event, then the latest creation, then the last appended.
const PROBE_EXPR = `{'t': event_timestamp, 'c': 'infinity'::TIMESTAMP, 'r': 9223372036854775807::BIGINT}`;

/**
 * The SQL type of `__pit_row` for `rows` entity rows. The answer is sorted on it at the end: measured
 * with 300k rows, a UINTEGER instead of a BIGINT made writing the answer to Parquet about 30% faster.
 */
export function rowType(rows: number | bigint): string {
  return BigInt(rows) < 2n ** 32n ? 'UINTEGER' : 'BIGINT';
}

/** The entity relation of inline rows staged as a CSV file by `writeEntityCsv` with its `baseMs`. */
export function csvEntitySelect(
  csvPath: string,
  keys: readonly KeyColumn[],
  baseMs: number,
  rows: number,
): string {
  const csvColumns = [
    `${literal(ROW)}: ${literal(rowType(rows))}`,
    ...keys.map((k) => `${literal(k.name)}: ${literal(csvType(k.type))}`),
    `${literal(SECONDS)}: 'BIGINT'`,
    `${literal(MS)}: 'BIGINT'`,
  ];
  const keyExprs = keys.map((k) =>
    k.type === 'timestamp' ? `epoch_ms(${ident(k.name)}) AS ${ident(k.name)}` : ident(k.name),
  );
  const time = `epoch_ms(${baseMs}::BIGINT + ${SECONDS} * 1000 + ${MS})`;
  const source =
    `read_csv(${literal(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', ` +
    `escape = '"', allow_quoted_nulls = false, columns = {${csvColumns.join(', ')}})`;
  return `SELECT ${ROW}, ${keyExprs.join(', ')}, ${time} AS event_timestamp FROM ${source}`;
}

/**
 * ASOF takes one inequality, so the tie-break rides in it: a struct ordered by event time, then
 * created time, then rowid (append order). That picks the same row as first reducing each
 * (keys, event time) to its latest creation, without sorting the whole view table for it. Measured
 * on DuckDB 1.5 (1M rows a view): packing the three into a HUGEINT sorted no faster, and settling ties
 * before a plain ASOF cost as much in its GROUP BY (one group per row) as the wider sort key does.
 */
function asofJoin(plan: ViewPlan, alias: string, asOf: boolean): string {
  const keyNames = plan.view.keys.map((k) => k.name);
  const featureNames = plan.features.map((f) => f.feature).filter((f) => plan.columns?.has(f));
  const projected = [...new Set([...keyNames, ...featureNames])].map(ident);
  const order = `{'t': event_timestamp, 'c': coalesce(created_timestamp, '-infinity'::TIMESTAMP), 'r': rowid}`;
  const filters = ['event_timestamp IS NOT NULL', ...(asOf ? ['created_timestamp <= $1'] : [])];
  // The event time rides along only to check the TTL: without one it would just widen the sort.
  const event = plan.view.ttlMs === undefined ? '' : `event_timestamp AS ${EVENT}, `;
  const rows =
    `SELECT ${projected.join(', ')}, ${event}${order} AS ${ORDER} ` +
    `FROM ${ident(plan.table)} WHERE ${filters.join(' AND ')}`;
  const on = [
    ...keyNames.map((k) => `e.${ident(k)} = ${alias}.${ident(k)}`),
    `e.${PROBE} >= ${alias}.${ORDER}`,
  ];
  return `ASOF LEFT JOIN (${rows}) AS ${alias} ON ${on.join(' AND ')}`;
}

function featureExpr(
  column: FeatureColumn,
  plans: readonly ViewPlan[],
  aliases: ReadonlyMap<string, string>,
): string {
  const plan = plans.find((p) => p.view.name === column.view)!;
  const alias = aliases.get(column.view);
  const type = DUCKDB_TYPES[plan.view.features[column.feature]!];
  if (!alias || !plan.columns?.has(column.feature)) return `CAST(NULL AS ${type}) AS ${ident(column.ref)}`;
  const value = `${alias}.${ident(column.feature)}`;
  const ttlMs = plan.view.ttlMs;
  if (ttlMs === undefined) return `${value} AS ${ident(column.ref)}`;
  // A row exactly at t - ttl is still in range; one microsecond older is not.
  const floor = `e.event_timestamp - to_microseconds(${Math.round(ttlMs * 1000)}::BIGINT)`;
  return `CASE WHEN ${alias}.${EVENT} >= ${floor} THEN ${value} END AS ${ident(column.ref)}`;
}

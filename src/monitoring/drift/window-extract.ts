/**
 * The window of a model version's prediction log, set-based in the offline store's DuckDB. One
 * statement copies the window into a temporary wide table, one DOUBLE column per baseline feature
 * (`c0`, `c1`, ... in the baseline's order) taken from the log's typed `features` list by the name
 * its row's `feature_names` gives it (by position in the baseline's feature list when a row has no
 * names), and the prediction output (`pv`: the probability of the last class, else the regression
 * prediction; `ps`: the label as text). Raw values are read from it column by column; a long view
 * `(col, v, s)` over it serves the aggregates per column (counts, value counts, bin counts over the
 * baseline's cuts) and the quality checks. A long table of 50M rows took most of a 1M-row window's
 * time; the wide one is as many values in 50 columns, read by a list index per row.
 */
import { newUuid } from '../../core/ids.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import { sqlIdent, sqlString } from '../baseline/reference.js';

/** The offline table the prediction log lands in (the serving sink's, read here by name). */
export const PREDICTIONS_TABLE = 'predictions';

/** What is extracted: which model version and time range, which columns under which names. */
export interface WindowSpec {
  model: string;
  version: number;
  from: Date;
  to: Date;
  /** The baseline's feature columns, in its order (the positional names of unnamed rows). */
  features: readonly string[];
  /** The baseline's prediction column and how the output is read for it; absent: not compared. */
  prediction?: { name: string; type: 'numerical' | 'categorical' };
}

/** A window in the offline store; drop it when done. */
export interface ExtractedWindow {
  /** The long view `(col, v, s)`: one row per window row and column, NULL `v` and `s` where missing. */
  table: string;
  /** The wide table: one row per window row. */
  wide: string;
  /** Each compared column's column in the wide table (`c<i>` for feature i, `pv` for the prediction). */
  columns: ReadonlyMap<string, string>;
  rows: number;
  drop(): Promise<void>;
}

const timestamp = (d: Date) => `TIMESTAMP ${sqlString(d.toISOString().replace('T', ' ').replace('Z', ''))}`;
const list = (names: readonly string[]) => `[${names.map(sqlString).join(', ')}]::VARCHAR[]`;

function windowFilter(spec: WindowSpec): string {
  return `model = ${sqlString(spec.model)} AND version = ${spec.version} AND time >= ${timestamp(spec.from)} AND time < ${timestamp(spec.to)}`;
}

/** Rows of the version's prediction log in the window (0 while nothing was ever logged). */
export async function countWindowRows(offline: OfflineStore, spec: WindowSpec): Promise<number> {
  const tables = await offline.query<{ n: bigint }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ${sqlString(PREDICTIONS_TABLE)}`,
  );
  if (Number(tables[0]?.n ?? 0) === 0) return 0;
  const rows = await offline.query<{ n: bigint }>(
    `SELECT count(*) AS n FROM ${PREDICTIONS_TABLE} WHERE ${windowFilter(spec)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

function predictionColumns(spec: WindowSpec): string {
  const p = spec.prediction;
  if (!p) return '';
  const value =
    p.type === 'numerical'
      ? `COALESCE(TRY_CAST(json_extract(output, '$.probabilities[#-1]') AS DOUBLE), TRY_CAST(json_extract(output, '$.prediction') AS DOUBLE))`
      : 'NULL::DOUBLE';
  const text = p.type === 'categorical' ? `output->>'label'` : 'NULL::VARCHAR';
  return `, ${value} AS pv, ${text} AS ps`;
}

/**
 * Per feature, the list index of its value in a row: by position for unnamed rows and rows named
 * exactly as the baseline (no per-row work), else by a CASE over the window's distinct namings.
 */
async function featureIndexes(offline: OfflineStore, spec: WindowSpec): Promise<string[]> {
  const baseline = JSON.stringify(spec.features);
  // Rows named as the baseline are filtered out by one comparison before any grouping.
  const namings = await offline.query<{ names: string }>(
    `SELECT CAST(feature_names AS VARCHAR) AS names FROM ${PREDICTIONS_TABLE}
     WHERE ${windowFilter(spec)} AND CAST(feature_names AS VARCHAR) <> ${sqlString(baseline)} GROUP BY 1`,
  );
  const other = namings.map((r) => r.names).filter((names) => JSON.stringify(JSON.parse(names)) !== baseline);
  return spec.features.map((feature, j) => {
    if (other.length === 0) return String(j + 1);
    const cases = other.map((names) => {
      const at = (JSON.parse(names) as unknown[]).indexOf(feature);
      return `WHEN ${sqlString(names)} THEN ${at < 0 ? 'NULL' : at + 1}`;
    });
    return `CASE CAST(feature_names AS VARCHAR) ${cases.join(' ')} ELSE ${j + 1} END`;
  });
}

/** Copies the window into a temporary wide table with a long view over it. */
export async function extractWindow(
  offline: OfflineStore,
  spec: WindowSpec,
  rows: number,
): Promise<ExtractedWindow> {
  const id = newUuid().replaceAll('-', '');
  const wide = `drift_window_${id}`;
  const table = `drift_window_long_${id}`;
  const indexes = await featureIndexes(offline, spec);
  // Infinities (NaN cannot come from JSON) are kept here and read as missing by every reader.
  const values = indexes.map((at, j) => `x[${at}] AS c${j}`);
  await offline.query(
    `CREATE TEMP TABLE ${sqlIdent(wide)} AS SELECT ${values.join(', ')}${spec.prediction ? ', pv, ps' : ''}
     FROM (SELECT CAST(features AS DOUBLE[]) AS x, feature_names${predictionColumns(spec)}
           FROM ${PREDICTIONS_TABLE} WHERE ${windowFilter(spec)})`,
  );
  const columns = new Map(spec.features.map((f, j) => [f, `c${j}`]));
  const names = list(spec.features);
  const cells = `[${spec.features.map((_, j) => `CASE WHEN isfinite(c${j}) THEN c${j} END`).join(', ')}]::DOUBLE[]`;
  const prediction = spec.prediction
    ? ` UNION ALL SELECT ${sqlString(spec.prediction.name)}, CASE WHEN isfinite(pv) THEN pv END, ps FROM ${sqlIdent(wide)}`
    : '';
  if (spec.prediction) columns.set(spec.prediction.name, 'pv');
  await offline.query(
    `CREATE TEMP VIEW ${sqlIdent(table)} AS
     SELECT unnest(${names}) AS col, unnest(${cells}) AS v, NULL::VARCHAR AS s FROM ${sqlIdent(wide)}${prediction}`,
  );
  const drop = async () => {
    await offline.query(`DROP VIEW IF EXISTS ${sqlIdent(table)}`);
    await offline.query(`DROP TABLE IF EXISTS ${sqlIdent(wide)}`);
  };
  return { table, wide, columns, rows, drop };
}

/** Non-null values per compared column, from the wide table (one pass). */
export async function presentCounts(
  offline: OfflineStore,
  window: ExtractedWindow,
): Promise<Map<string, number>> {
  const entries = [...window.columns];
  const counts = entries.map(([, c], k) =>
    c === 'pv'
      ? `count(pv) FILTER (WHERE isfinite(pv)) + count(ps) AS n${k}`
      : `count(${c}) FILTER (WHERE isfinite(${c})) AS n${k}`,
  );
  const found = await offline.query<Record<string, bigint>>(
    `SELECT ${counts.join(', ')} FROM ${sqlIdent(window.wide)}`,
  );
  return new Map(entries.map(([name], k) => [name, Number(found[0]?.[`n${k}`] ?? 0)]));
}

/** Counts per distinct value of the listed columns: numbers as `v`, text as `s`. */
export async function valueCounts(
  offline: OfflineStore,
  table: string,
  columns: readonly string[],
): Promise<Map<string, { v: number | null; s: string | null; n: number }[]>> {
  const out = new Map(columns.map((c) => [c, [] as { v: number | null; s: string | null; n: number }[]]));
  if (columns.length === 0) return out;
  const rows = await offline.query<{ col: string; v: number | null; s: string | null; n: bigint }>(
    `SELECT col, v, s, count(*) AS n FROM ${sqlIdent(table)}
     WHERE list_contains(${list(columns)}, col) AND (v IS NOT NULL OR s IS NOT NULL) GROUP BY ALL`,
  );
  for (const r of rows) out.get(r.col)?.push({ v: r.v, s: r.s, n: Number(r.n) });
  return out;
}

/**
 * Counts per bin of each listed column over its cuts, right-closed as the baseline's bins:
 * bin i holds cuts[i-1] < v <= cuts[i] (the number of cuts strictly below v).
 */
export async function binCountsOver(
  offline: OfflineStore,
  table: string,
  cuts: ReadonlyMap<string, readonly number[]>,
): Promise<Map<string, number[]>> {
  const out = new Map([...cuts].map(([c, k]) => [c, new Array<number>(k.length + 1).fill(0)]));
  if (cuts.size === 0) return out;
  const values = [...cuts]
    .map(
      ([c, k]) =>
        `(${sqlString(c)}, [${k.map((x) => `CAST(${sqlString(String(x))} AS DOUBLE)`).join(', ')}]::DOUBLE[])`,
    )
    .join(', ');
  const rows = await offline.query<{ col: string; b: bigint; n: bigint }>(
    `SELECT t.col, len(list_filter(k.cuts, c -> c < t.v)) AS b, count(*) AS n
     FROM ${sqlIdent(table)} t JOIN (VALUES ${values}) k(col, cuts) ON t.col = k.col
     WHERE t.v IS NOT NULL GROUP BY ALL`,
  );
  for (const r of rows) {
    const counts = out.get(r.col);
    if (counts) counts[Number(r.b)] = Number(r.n);
  }
  return out;
}

/** The temporary table as a FROM source. */
export function tableSource(table: string): string {
  return sqlIdent(table);
}

/** A Parquet file as a FROM source. */
export function parquetSource(path: string): string {
  return `read_parquet(${sqlString(path)})`;
}

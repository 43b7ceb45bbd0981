/**
 * The window of a model version's prediction log, set-based in the offline store's DuckDB. One
 * statement unnests the window's JSON rows into a temporary long table `(col, v, s)`: each feature
 * value under the name its row's `feature_names` gives it (by position in the baseline's feature
 * list when a row has no names), and the prediction output (`v`: the probability of the last class,
 * else the regression prediction; `s`: the label as text). Later queries aggregate that table per
 * column (counts, value counts, bin counts over the baseline's cuts, sorted values), so the JSON is
 * parsed once per window whatever the number of features.
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

/** A window's long table in the offline store; drop it when done. */
export interface ExtractedWindow {
  table: string;
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

function predictionSelect(spec: WindowSpec): string {
  const p = spec.prediction;
  if (!p) return '';
  const value =
    p.type === 'numerical'
      ? `COALESCE(TRY_CAST(json_extract(output, '$.probabilities[#-1]') AS DOUBLE), TRY_CAST(json_extract(output, '$.prediction') AS DOUBLE))`
      : 'NULL::DOUBLE';
  const text = p.type === 'categorical' ? `output->>'label'` : 'NULL::VARCHAR';
  return ` UNION ALL SELECT ${sqlString(p.name)} AS col, ${value} AS v, ${text} AS s FROM w`;
}

/** Unnests the window into a temporary table; answers it with the window's row count. */
export async function extractWindow(
  offline: OfflineStore,
  spec: WindowSpec,
  rows: number,
): Promise<ExtractedWindow> {
  const table = `drift_window_${newUuid().replaceAll('-', '')}`;
  const features = list(spec.features);
  const sql = `CREATE TEMP TABLE ${sqlIdent(table)} AS
    WITH w AS (SELECT feature_names, features, output FROM ${PREDICTIONS_TABLE} WHERE ${windowFilter(spec)}),
    f AS (SELECT unnest(COALESCE(CAST(feature_names AS VARCHAR[]), ${features})) AS col,
                 unnest(CAST(features AS DOUBLE[])) AS v FROM w)
    SELECT col, CASE WHEN isfinite(v) THEN v END AS v, NULL::VARCHAR AS s FROM f
    WHERE list_contains(${features}, col)${predictionSelect(spec)}`;
  await offline.query(sql);
  return { table, rows, drop: () => offline.query(`DROP TABLE IF EXISTS ${sqlIdent(table)}`).then(() => {}) };
}

/** Non-null values per column (`v` and `s` are never both set: text only for a categorical prediction). */
export async function presentCounts(offline: OfflineStore, table: string): Promise<Map<string, number>> {
  const rows = await offline.query<{ col: string; n: bigint }>(
    `SELECT col, count(v) + count(s) AS n FROM ${sqlIdent(table)} GROUP BY col`,
  );
  return new Map(rows.map((r) => [r.col, Number(r.n)]));
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

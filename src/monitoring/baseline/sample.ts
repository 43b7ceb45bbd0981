/**
 * The seeded sample of raw values that KS and Wasserstein need: per numeric column, a reservoir of
 * up to `sampleSize` of its non-null values (all of them when there are fewer), drawn by DuckDB with
 * `REPEATABLE (seed)` on one thread so the same file and seed always give the same sample. Written in
 * long form (`column`, `value`), sorted by column then value, so the file is byte-for-byte stable.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PlannedColumn } from './columns.js';
import { sqlString } from './reference.js';

/** The artifact path of a version's sample. */
export function samplePath(model: string, version: number): string {
  return `Baselines/${model}/v${version}/sample.parquet`;
}

/** Writes the sample of the numeric columns to `file` as Parquet; answers the values kept per column. */
export async function writeSample(
  con: DuckDBConnection,
  columns: PlannedColumn[],
  options: { sampleSize: number; seed: number; file: string },
): Promise<Record<string, number>> {
  const parts = columns.flatMap((c, i) =>
    c.type === 'numerical'
      ? [
          `SELECT ${sqlString(c.name)} AS "column", v AS value FROM (SELECT c${i} AS v FROM clean WHERE c${i} IS NOT NULL) ` +
            `USING SAMPLE reservoir(${options.sampleSize} ROWS) REPEATABLE (${options.seed})`,
        ]
      : [],
  );
  const body =
    parts.length > 0
      ? parts.join(' UNION ALL ')
      : 'SELECT NULL::VARCHAR AS "column", NULL::DOUBLE AS value WHERE false';
  // One thread: a parallel reservoir may keep different rows from run to run.
  await con.run('SET threads = 1');
  try {
    await con.run(`CREATE TABLE sample AS SELECT * FROM (${body}) ORDER BY "column", value`);
  } finally {
    await con.run('RESET threads');
  }
  await con.run(`COPY sample TO ${sqlString(options.file)} (FORMAT parquet)`);
  const counted = await con.runAndReadAll('SELECT "column" AS c, count(*) AS n FROM sample GROUP BY ALL');
  const counts: Record<string, number> = {};
  for (const c of columns) if (c.type === 'numerical') counts[c.name] = 0;
  for (const r of counted.getRowObjectsJS()) counts[String(r.c)] = Number(r.n);
  return counts;
}

/**
 * The train pipeline's data handling, in a scratch in-memory DuckDB of the step (never the offline
 * store, which belongs to the feature store): reading the label source (CSV or Parquet), writing
 * and reading the training set as CSV, and cutting it into numeric columns for the trainer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { invalidArgument } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import type { ArtifactStore } from '../../stores/artifact/port.js';
import { createOfflineStore } from '../../stores/offline/index.js';
import type { OfflineStore } from '../../stores/offline/port.js';

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
export const column = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** A scratch DuckDB and a private temp directory, both gone when `work` settles. */
export async function withScratch<T>(work: (db: OfflineStore, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-train-'));
  const db = await createOfflineStore('duckdb::memory:', { dataDir: dir, logger: silentLogger });
  try {
    return await work(db, dir);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The FROM source reading a CSV or Parquet file by its extension. */
export function fileSource(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return `read_parquet(${quote(path)})`;
  if (ext === '.csv') return `read_csv(${quote(path)}, header = true)`;
  throw invalidArgument(
    'params.labels',
    `${path} is neither .csv nor .parquet`,
    'point labels at a CSV or Parquet file',
  );
}

/** Copies an artifact to a local file of the scratch directory; answers its path. */
export async function download(
  artifact: ArtifactStore,
  path: string,
  dir: string,
  name: string,
): Promise<string> {
  const local = join(dir, name);
  await writeFile(local, await artifact.getBuffer(path));
  return local;
}

/** Rows of a query as JSON-safe objects (timestamps as ISO text, bigints as numbers). */
export async function jsonRows(db: OfflineStore, sql: string): Promise<Record<string, unknown>[]> {
  const rows = await db.query<Record<string, unknown>>(sql);
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v,
      ]),
    ),
  );
}

/** Named numeric columns of a source, NaN where null or not a number. */
export async function numericColumns(
  db: OfflineStore,
  source: string,
  names: readonly string[],
): Promise<Record<string, Float64Array>> {
  const select = names.map((n) => `TRY_CAST(${column(n)} AS DOUBLE) AS ${column(n)}`).join(', ');
  const columns = await db.queryColumns(`SELECT ${select} FROM ${source}`);
  return Object.fromEntries(names.map((n) => [n, columns[n] as Float64Array]));
}

/** The columns of a source with DuckDB's type names. */
export async function describeSource(
  db: OfflineStore,
  source: string,
): Promise<{ name: string; type: string }[]> {
  const rows = await db.query<{ column_name: string; column_type: string }>(
    `DESCRIBE SELECT * FROM ${source}`,
  );
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/** Rows as CSV (header first), through DuckDB so quoting follows the format. */
export async function writeCsv(
  db: OfflineStore,
  rows: Record<string, unknown>[],
  path: string,
): Promise<void> {
  const json = `${path}.jsonl`;
  await writeFile(json, rows.map((r) => JSON.stringify(r)).join('\n'));
  await db.query(
    `COPY (SELECT * FROM read_json(${quote(json)}, format = 'newline_delimited')) TO ${quote(path)} (HEADER, DELIMITER ',')`,
  );
  await rm(json, { force: true });
}

/**
 * Reads an uploaded reference dataset (CSV, Parquet or JSONL) into a table `ref` of a private
 * in-memory DuckDB. CSV and JSONL types are detected over the whole file (`sample_size = -1`), so a
 * late non-numeric value makes its column text instead of failing the read.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { invalidArgument } from '../../core/errors.js';
import { REFERENCE_FORMATS, type ReferenceFormat } from './profile.js';

/** The uploaded file: where it was saved, and what the client called it. */
export interface ReferenceFile {
  path: string;
  name: string;
  contentType?: string;
  /** csv, parquet or jsonl; told from the name or content type when absent. */
  format?: string;
}

export interface ReferenceColumn {
  name: string;
  sourceType: string;
}

const BY_EXTENSION: Record<string, ReferenceFormat> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

const BY_CONTENT_TYPE: Record<string, ReferenceFormat> = {
  'text/csv': 'csv',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
};

/** The format named by `format`, else by the file's extension, else by its content type. */
export function referenceFormat(file: ReferenceFile): ReferenceFormat {
  if (file.format !== undefined) {
    if ((REFERENCE_FORMATS as readonly string[]).includes(file.format)) return file.format as ReferenceFormat;
    throw invalidArgument(
      'format',
      `${JSON.stringify(file.format)} is not a file format`,
      'send csv, parquet or jsonl',
    );
  }
  const byType = BY_CONTENT_TYPE[(file.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''];
  const found = BY_EXTENSION[extname(file.name).toLowerCase()] ?? byType;
  if (found) return found;
  throw invalidArgument(
    'file',
    `"${file.name}" is not a CSV, Parquet or JSONL file`,
    'name the file .csv, .parquet or .jsonl, or send a format field (csv, parquet or jsonl)',
  );
}

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function reader(path: string, format: ReferenceFormat): string {
  const p = sqlString(path);
  if (format === 'parquet') return `read_parquet(${p})`;
  if (format === 'csv') return `read_csv(${p}, header = true, sample_size = -1)`;
  return `read_json(${p}, format = 'newline_delimited', sample_size = -1)`;
}

/** Loads the file into table `ref`; answers its columns and row count, or INVALID_ARGUMENT naming `file`. */
export async function loadReference(
  con: DuckDBConnection,
  file: ReferenceFile,
  format: ReferenceFormat,
): Promise<{ columns: ReferenceColumn[]; rows: number }> {
  if ((await stat(file.path)).size === 0) {
    throw invalidArgument(
      'file',
      `"${file.name}" is empty`,
      'send a reference dataset with a header and rows',
    );
  }
  try {
    await con.run(`CREATE TABLE ref AS SELECT * FROM ${reader(file.path, format)}`);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw invalidArgument(
      'file',
      `"${file.name}" could not be read as ${format} (${reason})`,
      'send a valid CSV with a header row, a Parquet file, or JSONL with one object per line',
    );
  }
  const described = await con.runAndReadAll('DESCRIBE ref');
  const columns = described.getRowObjectsJS().map((r) => ({
    name: String(r.column_name),
    sourceType: String(r.column_type),
  }));
  const counted = await con.runAndReadAll('SELECT count(*) AS n FROM ref');
  const rows = Number(counted.getRowObjectsJS()[0]?.n ?? 0);
  if (rows === 0) {
    throw invalidArgument(
      'file',
      `"${file.name}" has no rows`,
      'send a reference dataset with at least one row',
    );
  }
  return { columns, rows };
}

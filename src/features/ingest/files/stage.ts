/**
 * Reads an uploaded file into a scratch table of the source's columns, set-based by DuckDB:
 * `read_csv` and `read_json` as text (so one bad value marks its row instead of failing the read),
 * `read_parquet` with its own types. Row numbers are the table's insertion order, 1-based.
 */
import { MeridianError } from '../../../core/errors.js';
import type { OfflineStore } from '../../../stores/offline/port.js';
import type { SourceDef } from '../../definitions.js';
import type { StagedColumn } from './columns.js';
import type { FileFormat } from './format.js';
import { ident, literal } from './sql.js';

export interface UploadedFile {
  /** Where the upload was saved on this machine. */
  path: string;
  /** The name the client gave it, for messages and the rejects table. */
  name: string;
  format: FileFormat;
}

function reader(file: UploadedFile, source: SourceDef): string {
  const path = literal(file.path);
  switch (file.format) {
    case 'csv':
      return `read_csv(${path}, header = true, all_varchar = true)`;
    case 'parquet':
      return `read_parquet(${path})`;
    case 'jsonl': {
      const columns = Object.keys(source.schema).map((name) => `${literal(name)}: 'VARCHAR'`);
      return `read_json(${path}, format = 'newline_delimited', columns = {${columns.join(', ')}})`;
    }
  }
}

function unreadable(file: UploadedFile, err: unknown): MeridianError {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const message = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
  return new MeridianError(
    'INVALID_ARGUMENT',
    `file "${file.name}" could not be read as ${file.format}: ${message}; check the file or send the right format field`,
    { field: 'file', file: file.name, format: file.format },
  );
}

/** Creates `table` with one column per schema field (NULL when the file lacks it); answers the columns. */
export async function stageFile(
  offline: OfflineStore,
  source: SourceDef,
  file: UploadedFile,
  table: string,
): Promise<StagedColumn[]> {
  const from = reader(file, source);
  try {
    const described = await offline.query<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM ${from}`,
    );
    const present = new Map(described.map((row) => [row.column_name, row.column_type]));
    const columns = Object.entries(source.schema).map(([name, type]) => ({
      name,
      type,
      rawType: present.get(name) ?? null,
    }));
    const select = columns.map((c) => (c.rawType === null ? `NULL AS ${ident(c.name)}` : ident(c.name)));
    await offline.query(`CREATE TEMP TABLE ${ident(table)} AS SELECT ${select.join(', ')} FROM ${from}`);
    return columns;
  } catch (err) {
    throw unreadable(file, err);
  }
}

/** The file formats a source accepts, and how an upload's format is told when not given. */
import { extname } from 'node:path';
import { invalidArgument } from '../../../core/errors.js';

export const FILE_FORMATS = ['csv', 'parquet', 'jsonl'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

const BY_EXTENSION: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

const BY_CONTENT_TYPE: Record<string, FileFormat> = {
  'text/csv': 'csv',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/jsonlines': 'jsonl',
};

/** The format named by `format`, else by the file's extension, else by its content type. */
export function resolveFormat(
  fileName: string,
  contentType: string | undefined,
  format?: string,
): FileFormat {
  if (format !== undefined) {
    if ((FILE_FORMATS as readonly string[]).includes(format)) return format as FileFormat;
    throw invalidArgument(
      'format',
      `${JSON.stringify(format)} is not a file format`,
      'send csv, parquet or jsonl',
    );
  }
  const found =
    BY_EXTENSION[extname(fileName).toLowerCase()] ??
    BY_CONTENT_TYPE[(contentType ?? '').split(';')[0]!.trim().toLowerCase()];
  if (found) return found;
  throw invalidArgument(
    'format',
    `cannot tell the format of "${fileName}" from its name or content type`,
    'send a format field (csv, parquet or jsonl) or name the file .csv, .parquet or .jsonl',
  );
}

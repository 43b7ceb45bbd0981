/**
 * Builds the body of `POST /v1/features/historical` for the SDK: JSON for inline rows, multipart with
 * the file streamed from disk (a file-backed Blob, never read whole into memory) for an entity file.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { invalidArgument } from '../core/errors.js';

/** One entity row: its join keys and `event_timestamp` (ISO-8601 with a zone, epoch ms or a Date). */
export type EntityRow = Record<string, unknown>;

/** Entity rows inline, or a local CSV or Parquet file of them (format from the extension unless given). */
export type EntityRowsInput = readonly EntityRow[] | { file: string; format?: 'csv' | 'parquet' };

/** Feature references (`view:feature`, `view:*`) or the name of a feature service. */
export type FeaturesInput = readonly string[] | { featureService: string };

export type HistoricalFormat = 'json' | 'parquet' | 'csv';

export const MEDIA_TYPES: Record<HistoricalFormat, string> = {
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
  csv: 'text/csv',
};

/** What the request carries besides the entity rows. */
function fields(features: FeaturesInput, asOf: string | number | Date | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = Array.isArray(features)
    ? { features }
    : { featureService: (features as { featureService: string }).featureService };
  if (asOf !== undefined) out.asOfSystemTime = asOf instanceof Date ? asOf.toISOString() : asOf;
  return out;
}

/** The request body and its content type (undefined for FormData: fetch sets the boundary). */
export async function historicalBody(
  entities: EntityRowsInput,
  features: FeaturesInput,
  asOf: string | number | Date | undefined,
): Promise<{ body: string | FormData; contentType?: string }> {
  const rest = fields(features, asOf);
  if (Array.isArray(entities)) {
    return {
      body: JSON.stringify({ entities, ...rest }, (_key, value) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
      contentType: 'application/json',
    };
  }
  const file = (entities as { file?: unknown; format?: string }).file;
  if (typeof file !== 'string' || file === '') {
    throw invalidArgument('entities', 'must be an array of entity rows or { file: path }');
  }
  let blob: Blob;
  try {
    blob = await openAsBlob(file);
  } catch {
    throw invalidArgument(
      'entities.file',
      `${file} cannot be read`,
      'give the path of an existing CSV or Parquet file',
    );
  }
  const form = new FormData();
  for (const [name, value] of Object.entries(rest)) {
    form.append(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const format = (entities as { format?: string }).format;
  if (format !== undefined) form.append('format', format);
  form.append('entities', blob, basename(file));
  return { body: form };
}

/**
 * The multipart form of a historical request: an `entities` file part (CSV or Parquet), streamed to
 * a private temp file and never held in memory, plus the fields `features` (comma-separated or
 * repeated), `featureService`, `asOfSystemTime` and optionally `format`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { EntityFile } from './entity-file-rows.js';

/** The request as the JSON form would carry it, with the saved file as `entities`; `remove()` deletes it. */
export interface EntityUpload {
  body: Record<string, unknown>;
  remove(): Promise<void>;
}

export interface EntityUploadLimits {
  maxFileBytes: number;
  tmpDir?: string | undefined;
}

const FIELDS = new Set(['features', 'featureService', 'asOfSystemTime', 'format']);
const BY_EXTENSION: Record<string, EntityFile['format']> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};
const BY_CONTENT_TYPE: Record<string, EntityFile['format']> = {
  'text/csv': 'csv',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
};

function tooLarge(limit: number): MeridianError {
  return new MeridianError(
    'RESOURCE_EXHAUSTED',
    `entities: the uploaded file is larger than the limit of ${limit} bytes; split it into smaller files`,
    { field: 'entities', limitBytes: limit },
  );
}

/** The format from the `format` field, else the file's extension, else its content type. */
function formatOf(part: { filename: string; mimetype: string }, field: string | undefined) {
  if (field !== undefined) {
    if (field === 'csv' || field === 'parquet') return field;
    throw invalidArgument(
      'format',
      `${JSON.stringify(field)} is not an entity file format`,
      'send csv or parquet',
    );
  }
  const found =
    BY_EXTENSION[extname(part.filename ?? '').toLowerCase()] ??
    BY_CONTENT_TYPE[(part.mimetype ?? '').split(';')[0]!.trim().toLowerCase()];
  if (found) return found;
  throw invalidArgument(
    'format',
    `cannot tell the format of "${part.filename}" from its name or content type`,
    'name the file .csv or .parquet, or send a format field (csv or parquet)',
  );
}

async function saveFile(part: MultipartFile, dir: string, limit: number): Promise<string> {
  const path = join(dir, 'entities');
  await pipeline(part.file, createWriteStream(path));
  if (part.file.truncated) throw tooLarge(limit);
  return path;
}

/** Adds a field's value; `features` may repeat and each value may hold several comma-separated refs. */
function addField(fields: Record<string, unknown>, name: string, value: string): void {
  if (!FIELDS.has(name)) {
    throw invalidArgument(name, 'is not a field of this request', `send only ${[...FIELDS].join(', ')}`);
  }
  if (name !== 'features') {
    fields[name] = value;
    return;
  }
  const refs = value
    .split(',')
    .map((ref) => ref.trim())
    .filter((ref) => ref !== '');
  fields.features = [...((fields.features as string[] | undefined) ?? []), ...refs];
}

/** Streams the parts: the file to disk, the fields into the body; fields may come before or after the file. */
export async function receiveEntityUpload(
  request: FastifyRequest,
  limits: EntityUploadLimits,
): Promise<EntityUpload> {
  const dir = await mkdtemp(join(limits.tmpDir ?? tmpdir(), 'meridian-entities-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const fields: Record<string, unknown> = {};
    let file: { path: string; filename: string; mimetype: string } | undefined;
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        addField(fields, part.fieldname, String(part.value));
        continue;
      }
      if (part.fieldname !== 'entities' || file) {
        part.file.resume();
        throw invalidArgument(
          part.fieldname,
          'is not expected',
          'send exactly one file part named "entities"',
        );
      }
      file = {
        path: await saveFile(part, dir, limits.maxFileBytes),
        filename: part.filename,
        mimetype: part.mimetype,
      };
    }
    if (!file) {
      throw invalidArgument(
        'entities',
        'is missing',
        'send the CSV or Parquet file as a multipart part named "entities"',
      );
    }
    const { format, ...rest } = fields;
    const entities: EntityFile = { path: file.path, format: formatOf(file, format as string | undefined) };
    return { body: { ...rest, entities }, remove };
  } catch (err) {
    await remove();
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(limits.maxFileBytes);
    throw err;
  }
}

/**
 * Point-in-time training rows over REST: `POST /v1/features/historical` answers `{"rows": [...]}`
 * in the input order, or a file of the same rows when the client sends `Accept:
 * application/vnd.apache.parquet` (or `text/csv`), with its row count in `meridian-row-count`.
 * The entity rows come inline in a JSON body, or as a CSV or Parquet file in a multipart body (see
 * `features/retrieval/entity-upload.ts`). Deps: the offline store and the catalog (the registry).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidArgument } from '../../core/errors.js';
import type { Catalog } from '../../features/catalog.js';
import { makeTempDir } from '../../features/retrieval/entity-file.js';
import { receiveEntityUpload } from '../../features/retrieval/entity-upload.js';
import {
  type EntityInput,
  type FeatureSelection,
  getHistoricalFeatures,
  type HistoricalFile,
  type HistoricalOptions,
  type HistoricalRow,
  writeHistoricalFile,
} from '../../features/retrieval/point-in-time.js';
import type { OfflineStore } from '../../stores/offline/port.js';

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';
export const CSV_MEDIA_TYPE = 'text/csv';
/** The answer header carrying the number of rows of a Parquet or CSV answer. */
export const ROW_COUNT_HEADER = 'meridian-row-count';

/** Large enough for about a million entity rows of JSON. */
const DEFAULT_BODY_LIMIT = 128 * 1024 * 1024;

export interface HistoricalRouteDeps {
  offline: OfflineStore;
  catalog: Catalog;
  /** Refuse requests with more entity rows than this (default 1,000,000). */
  maxEntityRows?: number;
  /** Largest JSON request body in bytes (default 128 MiB). */
  bodyLimit?: number;
  /** Largest uploaded entity file in bytes (default 1 GiB). */
  maxFileBytes?: number;
  /** Where uploaded entity files are kept while they are read (default the OS temp directory). */
  tmpDir?: string;
}

/** A parsed request: the entity rows (inline or a file), the features and the options. */
export interface HistoricalRequest {
  entities: EntityInput;
  features: FeatureSelection;
  options: HistoricalOptions;
}

const GIB = 1024 ** 3;

/** Registers `POST /v1/features/historical`, with multipart parsing limited to its own scope. */
export function registerHistoricalRoutes(app: FastifyInstance, deps: HistoricalRouteDeps): void {
  const maxFileBytes = deps.maxFileBytes ?? GIB;
  app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxFileBytes, files: 1, fields: 20 } });
    scope.post(
      '/v1/features/historical',
      { bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT },
      async (request: FastifyRequest, reply: FastifyReply) => {
        if (!request.isMultipart()) {
          const parsed = parseBody(request.body);
          return answer(request, reply, deps, { ...parsed, entities: inlineRows(parsed.entities) });
        }
        const upload = await receiveEntityUpload(request, { maxFileBytes, tmpDir: deps.tmpDir });
        try {
          return await answer(request, reply, deps, parseBody(upload.body));
        } finally {
          await upload.remove();
        }
      },
    );
  });
}

async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: HistoricalRouteDeps,
  { entities, features, options }: HistoricalRequest,
): Promise<unknown> {
  if (deps.maxEntityRows !== undefined) options.maxEntityRows = deps.maxEntityRows;
  const format = fileFormat(request.headers.accept);
  if (format) return sendFile(reply, deps, { entities, features, options }, format);
  const rows = await getHistoricalFeatures(deps.offline, deps.catalog, entities, features, options);
  return { rows: rows.map(toWire) };
}

/** A JSON body carries rows, never a file reference: the server reads no path a client names. */
function inlineRows(entities: EntityInput): EntityInput {
  if (Array.isArray(entities) || entities === undefined) return entities;
  throw invalidArgument(
    'entities',
    'must be an array of entity rows',
    'send [{"<join key>": ..., "event_timestamp": ...}, ...], or upload a CSV or Parquet file as a multipart "entities" part',
  );
}

/** Checks the JSON body (or the fields of a multipart one, with the file as `entities`). */
export function parseBody(body: unknown): HistoricalRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument(
      'body',
      'must be a JSON object',
      'send {"entities": [...], "features": [...]} or {"entities": [...], "featureService": "name"}',
    );
  }
  const { entities, features, featureService, asOfSystemTime } = body as Record<string, unknown>;
  if (features !== undefined && featureService !== undefined) {
    throw invalidArgument('featureService', 'was sent together with features', 'send only one of the two');
  }
  if (features === undefined && featureService === undefined) {
    throw invalidArgument(
      'features',
      'is missing',
      'send "features": ["view:feature", ...] or "featureService"',
    );
  }
  if (features !== undefined && !Array.isArray(features)) {
    throw invalidArgument('features', 'must be an array of "view:feature" strings');
  }
  if (featureService !== undefined && typeof featureService !== 'string') {
    throw invalidArgument('featureService', 'must be the name of a feature service');
  }
  const options: HistoricalOptions = {};
  if (asOfSystemTime !== undefined && asOfSystemTime !== null) {
    options.asOfSystemTime = asOfSystemTime as HistoricalOptions['asOfSystemTime'];
  }
  return {
    entities: entities as EntityInput,
    features: (features as string[] | undefined) ?? { featureService: featureService as string },
    options,
  };
}

/** Parquet or CSV when the client accepts it; JSON otherwise. */
function fileFormat(accept: string | undefined): HistoricalFile['format'] | undefined {
  const wanted = (accept ?? '').toLowerCase();
  if (wanted.includes(PARQUET_MEDIA_TYPE)) return 'parquet';
  if (wanted.includes(CSV_MEDIA_TYPE)) return 'csv';
  return undefined;
}

/** Writes the rows to a file with DuckDB, streams it back and removes it once sent. */
async function sendFile(
  reply: FastifyReply,
  deps: HistoricalRouteDeps,
  { entities, features, options }: HistoricalRequest,
  format: HistoricalFile['format'],
): Promise<FastifyReply> {
  const dir = await makeTempDir('meridian-historical-');
  try {
    const path = join(dir.path, `historical.${format}`);
    const { rows } = await writeHistoricalFile(
      deps.offline,
      deps.catalog,
      entities,
      features,
      { path, format },
      options,
    );
    const stream = createReadStream(path);
    stream.once('close', () => void dir.remove());
    return reply
      .type(format === 'parquet' ? PARQUET_MEDIA_TYPE : `${CSV_MEDIA_TYPE}; charset=utf-8`)
      .header(ROW_COUNT_HEADER, String(rows))
      .header('content-disposition', `attachment; filename="historical.${format}"`)
      .send(stream);
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/** Timestamps as ISO-8601 UTC, int64 as a JSON number when exact, else as a decimal string. */
function toWire(row: HistoricalRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) out[name] = wireValue(value);
  return out;
}

function wireValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  return value;
}

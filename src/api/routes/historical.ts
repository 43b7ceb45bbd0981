/**
 * Point-in-time training rows over REST: `POST /v1/features/historical` answers
 * `{"rows": [...]}` in the input order, or a Parquet file of the same rows when the client sends
 * `Accept: application/vnd.apache.parquet`. Deps: the offline store and the catalog (the registry).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidArgument } from '../../core/errors.js';
import type { Catalog } from '../../features/catalog.js';
import { makeTempDir } from '../../features/retrieval/entity-file.js';
import {
  type FeatureSelection,
  getHistoricalFeatures,
  type HistoricalOptions,
  type HistoricalRow,
  writeHistoricalParquet,
} from '../../features/retrieval/point-in-time.js';
import type { OfflineStore } from '../../stores/offline/port.js';

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';

/** Large enough for about a million entity rows of JSON. */
const DEFAULT_BODY_LIMIT = 128 * 1024 * 1024;

export interface HistoricalRouteDeps {
  offline: OfflineStore;
  catalog: Catalog;
  /** Refuse requests with more entity rows than this (default 1,000,000). */
  maxEntityRows?: number;
  /** Largest request body in bytes (default 128 MiB). */
  bodyLimit?: number;
}

interface HistoricalRequest {
  entities: unknown[];
  features: FeatureSelection;
  options: HistoricalOptions;
}

/** Registers `POST /v1/features/historical`. */
export function registerHistoricalRoutes(app: FastifyInstance, deps: HistoricalRouteDeps): void {
  app.post(
    '/v1/features/historical',
    { bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { entities, features, options } = parseBody(request.body, deps.maxEntityRows);
      if (wantsParquet(request.headers.accept)) {
        return sendParquet(reply, deps, entities, features, options);
      }
      const rows = await getHistoricalFeatures(deps.offline, deps.catalog, entities, features, options);
      return { rows: rows.map(toWire) };
    },
  );
}

function parseBody(body: unknown, maxEntityRows: number | undefined): HistoricalRequest {
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
  if (maxEntityRows !== undefined) options.maxEntityRows = maxEntityRows;
  return {
    entities: entities as unknown[],
    features: (features as string[] | undefined) ?? { featureService: featureService as string },
    options,
  };
}

function wantsParquet(accept: string | undefined): boolean {
  return (accept ?? '').toLowerCase().includes(PARQUET_MEDIA_TYPE);
}

/** Writes the rows to a Parquet file with DuckDB, streams it back and removes it once sent. */
async function sendParquet(
  reply: FastifyReply,
  deps: HistoricalRouteDeps,
  entities: unknown[],
  features: FeatureSelection,
  options: HistoricalOptions,
): Promise<FastifyReply> {
  const dir = await makeTempDir('meridian-historical-');
  try {
    const file = join(dir.path, 'historical.parquet');
    await writeHistoricalParquet(deps.offline, deps.catalog, entities, features, file, options);
    const stream = createReadStream(file);
    stream.once('close', () => void dir.remove());
    return reply
      .type(PARQUET_MEDIA_TYPE)
      .header('content-disposition', 'attachment; filename="historical.parquet"')
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

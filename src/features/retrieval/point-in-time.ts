/**
 * Point-in-time historical retrieval (ARCHITECTURE §3): for each entity row (keys, t) and view, the
 * row with the greatest `event_timestamp <= t` inside the TTL, ties broken by the greatest
 * `created_timestamp`; with `asOfSystemTime: s`, only rows created at or before `s` count.
 */
import { join } from 'node:path';
import { invalidArgument, MeridianError } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import { type Catalog, type ResolvedView, resolveFeatureRefs } from '../catalog.js';
import { viewTable } from '../layout.js';
import { makeTempDir, writeEntityCsv } from './entity-file.js';
import { type EntityFile, entityFileSelect } from './entity-file-rows.js';
import {
  DEFAULT_MAX_ENTITY_ROWS,
  type KeyColumn,
  requireTimestamp,
  validateEntityRows,
} from './entity-rows.js';
import { csvEntitySelect, type FeatureColumn, pointInTimeSql, type ViewPlan } from './pit-sql.js';

export type { EntityFile } from './entity-file-rows.js';
export { DEFAULT_MAX_ENTITY_ROWS } from './entity-rows.js';

/** Entity rows inline (objects with the join keys and `event_timestamp`) or a CSV/Parquet file of them. */
export type EntityInput = readonly unknown[] | EntityFile;

/** Feature references (`view:feature`, `view:*`) or the name of a feature service. */
export type FeatureSelection = readonly string[] | { featureService: string };

export interface HistoricalOptions {
  /** Only rows created at or before this time count (ISO-8601 with a zone, epoch ms or a Date). */
  asOfSystemTime?: string | number | Date;
  /** Refuse more entity rows than this (default 1,000,000). */
  maxEntityRows?: number;
}

/** One answer row: the entity's keys, `event_timestamp` (a Date), then one column per `view:feature`. */
export type HistoricalRow = Record<string, unknown>;

/** The historical feature values of each entity row, in the input order; null where no row is in range. */
export async function getHistoricalFeatures(
  offline: OfflineStore,
  catalog: Catalog,
  entityRows: EntityInput,
  features: FeatureSelection,
  options: HistoricalOptions = {},
): Promise<HistoricalRow[]> {
  return runPointInTime(offline, catalog, entityRows, features, options, (sql, params) =>
    offline.query<HistoricalRow>(sql, params),
  );
}

/** Writes the same rows as `getHistoricalFeatures` to a Parquet file at `path`; resolves with the row count. */
export async function writeHistoricalParquet(
  offline: OfflineStore,
  catalog: Catalog,
  entityRows: EntityInput,
  features: FeatureSelection,
  path: string,
  options: HistoricalOptions = {},
): Promise<{ rows: number }> {
  return writeHistoricalFile(offline, catalog, entityRows, features, { path, format: 'parquet' }, options);
}

/** A file the historical rows are written to by DuckDB. */
export interface HistoricalFile {
  path: string;
  /** Parquet, or CSV with a header row and timestamps as ISO-8601 UTC like the JSON answer. */
  format: 'parquet' | 'csv';
}

const COPY_OPTIONS: Record<HistoricalFile['format'], string> = {
  parquet: 'FORMAT parquet',
  csv: "FORMAT csv, HEADER true, timestampformat '%Y-%m-%dT%H:%M:%S.%gZ'",
};

/** Writes the same rows as `getHistoricalFeatures` to a Parquet or CSV file; resolves with the row count. */
export async function writeHistoricalFile(
  offline: OfflineStore,
  catalog: Catalog,
  entityRows: EntityInput,
  features: FeatureSelection,
  file: HistoricalFile,
  options: HistoricalOptions = {},
): Promise<{ rows: number }> {
  return runPointInTime(offline, catalog, entityRows, features, options, async (sql, params) => {
    const target = `'${file.path.replaceAll("'", "''")}'`;
    const [result] = await offline.query<{ Count: bigint }>(
      `COPY (${sql}) TO ${target} (${COPY_OPTIONS[file.format]})`,
      params,
    );
    return { rows: Number(result?.Count ?? 0) };
  });
}

async function runPointInTime<T>(
  offline: OfflineStore,
  catalog: Catalog,
  entityRows: EntityInput,
  features: FeatureSelection,
  options: HistoricalOptions,
  run: (sql: string, params: unknown[]) => Promise<T>,
): Promise<T> {
  const columns = resolveSelection(catalog, features);
  const views = viewsOf(catalog, columns);
  const keys = keyColumns(views);
  const limit = maxRows(options.maxEntityRows) ?? DEFAULT_MAX_ENTITY_ROWS;
  const asOf =
    options.asOfSystemTime === undefined
      ? undefined
      : new Date(requireTimestamp('asOfSystemTime', options.asOfSystemTime));
  const params = asOf ? [asOf] : [];
  if (isEntityFile(entityRows)) {
    const entities = await entityFileSelect(offline, entityRows, keys, limit);
    const plans = await planViews(offline, views, columns);
    return run(pointInTimeSql(entities, keys, plans, columns, asOf !== undefined), params);
  }
  const rows = validateEntityRows(entityRows, keys, limit);
  const plans = await planViews(offline, views, columns);
  const dir = await makeTempDir();
  try {
    const csv = join(dir.path, 'entities.csv');
    const { baseMs } = await writeEntityCsv(csv, keys, rows);
    const entities = csvEntitySelect(csv, keys, baseMs, rows.length);
    return await run(pointInTimeSql(entities, keys, plans, columns, asOf !== undefined), params);
  } finally {
    await dir.remove();
  }
}

/** A file reference; anything but an object is left for `validateEntityRows` to name. */
function isEntityFile(input: EntityInput): input is EntityFile {
  if (Array.isArray(input) || typeof input !== 'object' || input === null) return false;
  const file = input as Partial<EntityFile> | null;
  if (typeof file?.path !== 'string' || (file.format !== 'csv' && file.format !== 'parquet')) {
    throw invalidArgument(
      'entities',
      'must be an array of entity rows or { path, format: "csv" | "parquet" }',
    );
  }
  return true;
}

/** The requested feature columns, in request order, each once. */
function resolveSelection(catalog: Catalog, features: FeatureSelection): FeatureColumn[] {
  const refs = selectionRefs(catalog, features);
  const seen = new Set<string>();
  const out: FeatureColumn[] = [];
  for (const { view, feature, ref } of resolveFeatureRefs(catalog, refs)) {
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push({ view: view.name, feature, ref });
  }
  return out;
}

function selectionRefs(catalog: Catalog, features: FeatureSelection): readonly string[] {
  if (Array.isArray(features)) {
    if (features.length === 0) {
      throw invalidArgument('features', 'is empty', 'list at least one "view:feature" or "view:*"');
    }
    features.forEach((ref, i) => {
      if (typeof ref !== 'string') {
        throw invalidArgument(`features[${i}]`, 'is not a string', 'use "view:feature" or "view:*"');
      }
    });
    return features;
  }
  const name = (features as { featureService?: unknown } | null)?.featureService;
  if (typeof name !== 'string' || name === '') {
    throw invalidArgument(
      'features',
      'must be a list of "view:feature" references or { featureService: name }',
    );
  }
  const service = catalog.service(name);
  if (!service) {
    throw new MeridianError(
      'NOT_FOUND',
      `featureService: no feature service "${name}"; list services with GET /v1/feature-services`,
      { field: 'featureService' },
    );
  }
  return service.features;
}

function viewsOf(catalog: Catalog, columns: readonly FeatureColumn[]): ResolvedView[] {
  const names = [...new Set(columns.map((c) => c.view))];
  return names.map((name) => catalog.view(name)!);
}

/** The join keys of all requested views, each once, in order of first appearance. */
function keyColumns(views: readonly ResolvedView[]): KeyColumn[] {
  const keys = new Map<string, KeyColumn>();
  for (const view of views) for (const key of view.keys) if (!keys.has(key.name)) keys.set(key.name, key);
  return [...keys.values()];
}

function maxRows(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw invalidArgument('maxEntityRows', `${limit} is not a positive integer`);
  }
  return limit;
}

/** Looks up which view tables exist and their columns: a view not yet ingested answers nulls. */
async function planViews(
  offline: OfflineStore,
  views: readonly ResolvedView[],
  columns: readonly FeatureColumn[],
): Promise<ViewPlan[]> {
  const tables = views.map((view) => viewTable(view.name));
  const found = await offline.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_catalog = current_database() AND table_schema = 'main' AND list_contains($1, table_name)`,
    [tables],
  );
  return views.map((view, i) => {
    const table = tables[i]!;
    const names = found.filter((row) => row.table_name === table).map((row) => row.column_name);
    const features = columns.filter((c) => c.view === view.name);
    return { view, table, features, columns: names.length > 0 ? new Set(names) : null };
  });
}

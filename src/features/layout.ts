/**
 * Where feature data lives: the offline tables of sources and views, and the online store's entity
 * keys. Ingestion, retrieval and backfill all derive names here, so they can never disagree.
 */
import type { OfflineSchema, OfflineType } from '../stores/offline/port.js';
import type { ResolvedView } from './catalog.js';
import type { FeatureType, SourceDef } from './definitions.js';

/** Offline table of a source's raw events (kept for backfills and lineage). */
export const sourceTable = (source: string): string => `src_${source}`;
/** Offline table of a view's computed rows: the point-in-time history. */
export const viewTable = (view: string): string => `fv_${view}`;

/** Offline table of lineage: one row per write of a view (see ingest/lineage.ts). */
export const LINEAGE_TABLE = 'meridian_lineage';

/** Columns of the lineage table; `inputs` is JSON: `[{kind, name, minEventTime, maxEventTime}]`. */
export const LINEAGE_SCHEMA = {
  view: 'string',
  transform_version: 'int32',
  inputs: 'string',
  rows_written: 'int64',
  run_id: 'string',
  path: 'string',
  written_at: 'timestamp',
} as const satisfies OfflineSchema;

/** Columns every view row carries besides its keys and features. */
export const VIEW_META_COLUMNS = {
  event_timestamp: 'timestamp',
  created_timestamp: 'timestamp',
  transform_version: 'int32',
  run_id: 'string',
} as const satisfies OfflineSchema;

/** Columns every raw source row carries besides its schema. */
export const SOURCE_META_COLUMNS = {
  event_id: 'string',
  created_timestamp: 'timestamp',
} as const satisfies OfflineSchema;

const toOffline = (type: FeatureType): OfflineType => type;

/** The offline schema of a view: join keys, features, then the meta columns. */
export function viewTableSchema(view: ResolvedView): OfflineSchema {
  const schema: OfflineSchema = {};
  for (const key of view.keys) schema[key.name] = toOffline(key.type);
  for (const [name, type] of Object.entries(view.features))
    if (!(name in schema)) schema[name] = toOffline(type);
  return { ...schema, ...VIEW_META_COLUMNS };
}

/** The offline schema of a source's raw events. */
export function sourceTableSchema(source: SourceDef): OfflineSchema {
  const schema: OfflineSchema = {};
  for (const [name, type] of Object.entries(source.schema)) schema[name] = toOffline(type);
  return { ...schema, ...SOURCE_META_COLUMNS };
}

/**
 * The online store's entity key for join key values: each value as text, joined by U+001F so
 * `("1|2")` and `("1", "2")` can never collide.
 */
export function entityKey(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'bigint' ? v.toString() : String(v))).join('\u001f');
}

/** The online store's namespace of a view (rows of every transform version share it; newest event wins). */
export const onlineViewName = (view: ResolvedView): string => view.name;

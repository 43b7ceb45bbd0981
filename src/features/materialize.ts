/**
 * Materialization: loads the newest offline row of every entity of a view into the online store.
 * The newest row is picked set-based in DuckDB with the point-in-time tie-break (event time, then
 * creation time, then append order), staged in a scratch table, and written online in bounded
 * batches through `writeLatest`, the ingestion path's write: an entity whose online value has a newer
 * event time keeps it, so a materialization racing live pushes never moves an entity back in time.
 */
import { invalidArgument, MeridianError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { OfflineStore } from '../stores/offline/port.js';
import type { OnlineStore } from '../stores/online/port.js';
import type { Catalog, ResolvedView } from './catalog.js';
import { latestPerEntity } from './ingest/dual-write.js';
import type { ViewRow } from './ingest/transform.js';
import { onlineViewName, viewTable } from './layout.js';

/** Rows written online per `writeLatest` call (bounds memory whatever the view's size). */
export const DEFAULT_BATCH_ROWS = 10_000;

export interface MaterializeStores {
  offline: OfflineStore;
  online: OnlineStore;
  catalog: Catalog;
}

export interface MaterializeRequest {
  /** Views to load; default every online view. */
  views?: readonly string[];
  /** Only offline rows with an event time at or after this (epoch ms). */
  from?: number;
  /** Only offline rows with an event time before this (epoch ms). */
  to?: number;
  /** Rows per online write; default DEFAULT_BATCH_ROWS. */
  batchRows?: number;
}

/** Per view: rows that became the online value, and rows skipped because online held a newer event. */
export interface ViewMaterialized {
  rows: number;
  stale: number;
}

export interface MaterializeResult {
  views: Record<string, ViewMaterialized>;
  /** Rows written online over all views. */
  rows: number;
}

/** Loads the newest offline values of the views into the online store; zero rows when there is nothing. */
export async function materialize(
  stores: MaterializeStores,
  request: MaterializeRequest = {},
): Promise<MaterializeResult> {
  const views = selectViews(stores.catalog, request.views);
  checkRange(request.from, request.to);
  const batchRows = request.batchRows ?? DEFAULT_BATCH_ROWS;
  const result: MaterializeResult = { views: {}, rows: 0 };
  for (const view of views) {
    const loaded = await materializeView(stores, view, { ...request, batchRows });
    result.views[view.name] = loaded;
    result.rows += loaded.rows;
  }
  return result;
}

/** The named views (NOT_FOUND or INVALID_ARGUMENT naming `views[i]`), or every online view. */
function selectViews(catalog: Catalog, names: readonly string[] | undefined): ResolvedView[] {
  if (names === undefined) return catalog.views().filter((view) => view.online);
  return names.map((name, i) => {
    const view = catalog.view(name);
    if (!view) {
      throw new MeridianError(
        'NOT_FOUND',
        `views[${i}]: no feature view "${name}"; list them with GET /v1/feature-views`,
        { field: `views[${i}]`, view: name },
      );
    }
    if (!view.online) {
      throw invalidArgument(
        `views[${i}]`,
        `view "${name}" is offline only (online: false)`,
        'leave it out, or set online: true in its definition and apply it',
      );
    }
    return view;
  });
}

function checkRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && !(from < to)) {
    throw invalidArgument('to', 'must be later than from', 'send a window [from, to) with from < to');
  }
}

/** Stages the newest row per entity, then writes the staged rows online batch by batch. */
async function materializeView(
  stores: MaterializeStores,
  view: ResolvedView,
  request: MaterializeRequest & { batchRows: number },
): Promise<ViewMaterialized> {
  const { offline, online } = stores;
  const columns = await tableColumns(offline, viewTable(view.name));
  const keyNames = view.keys.map((k) => k.name);
  const needed = [...keyNames, 'event_timestamp', 'created_timestamp'];
  if (!needed.every((name) => columns.has(name))) return { rows: 0, stale: 0 };
  const features = Object.keys(view.features).filter((f) => columns.has(f));
  // The scratch prefix and name shape are ingestion's, so a crash's leftover is dropped at startup.
  const scratch = `stg_${newId().replaceAll('-', '')}_materialize`;
  const loaded: ViewMaterialized = { rows: 0, stale: 0 };
  try {
    await offline.query(stageSql(scratch, view, features, request));
    const [{ n } = { n: 0n }] = await offline.query<{ n: bigint }>(`SELECT count(*) AS n FROM "${scratch}"`);
    for (let start = 0; start < Number(n); start += request.batchRows) {
      const rows = await offline.query(
        `SELECT * FROM "${scratch}" WHERE rowid >= ${start} AND rowid < ${start + request.batchRows}`,
      );
      const written = await online.writeLatest(
        onlineViewName(view),
        latestPerEntity(rows.map((row) => viewRowOf(view, features, row))),
      );
      loaded.rows += written.written;
      loaded.stale += written.stale;
    }
  } finally {
    await offline.query(`DROP TABLE IF EXISTS "${scratch}"`).catch(() => undefined);
  }
  return loaded;
}

async function tableColumns(offline: OfflineStore, table: string): Promise<Set<string>> {
  const rows = await offline.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1",
    [table],
  );
  return new Set(rows.map((row) => row.column_name));
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The newest row per entity in [from, to), with the tie-break of point-in-time retrieval. */
function stageSql(
  scratch: string,
  view: ResolvedView,
  features: readonly string[],
  { from, to }: MaterializeRequest,
): string {
  const keys = view.keys.map((k) => ident(k.name));
  const filters = ['event_timestamp IS NOT NULL', ...keys.map((k) => `${k} IS NOT NULL`)];
  // Whole epoch milliseconds only (checked by the callers), so inlining them is safe.
  if (from !== undefined) filters.push(`event_timestamp >= epoch_ms(${Math.trunc(from)}::BIGINT)`);
  if (to !== undefined) filters.push(`event_timestamp < epoch_ms(${Math.trunc(to)}::BIGINT)`);
  const order = 'event_timestamp DESC, created_timestamp DESC NULLS LAST, rowid DESC';
  return [
    `CREATE TABLE "${scratch}" AS`,
    `SELECT ${[...new Set([...view.keys.map((k) => k.name), ...features])].map(ident).join(', ')}, event_timestamp`,
    `FROM ${ident(viewTable(view.name))}`,
    `WHERE ${filters.join(' AND ')}`,
    `QUALIFY row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${order}) = 1`,
  ].join('\n');
}

const toMs = (value: unknown): unknown => (value instanceof Date ? value.getTime() : value);

/** A staged row in ingestion's shape: timestamps as epoch ms, as pushes write them online. */
function viewRowOf(view: ResolvedView, features: readonly string[], row: Record<string, unknown>): ViewRow {
  const values: Record<string, unknown> = {};
  for (const name of features) values[name] = toMs(row[name]);
  return {
    keys: view.keys.map((k) => toMs(row[k.name])),
    features: values,
    eventTime: toMs(row.event_timestamp) as number,
    created: 0n,
  };
}

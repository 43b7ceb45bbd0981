/**
 * Writes a file's converted rows like a push batch (see dual-write.ts for the order): drop rows
 * whose event id is stored or repeated earlier in the file, write every view's rows, then the raw
 * source rows, then the newest row per entity online. Projection views are one INSERT ... SELECT;
 * SQL views run through the push path's `runSqlView` over the new rows.
 */
import type { OfflineStore } from '../../../stores/offline/port.js';
import { DUCKDB_TYPES } from '../../../stores/offline/rows.js';
import type { FeatureValue, OnlineRow, OnlineStore } from '../../../stores/online/port.js';
import type { Catalog, ResolvedView } from '../../catalog.js';
import type { SourceDef } from '../../definitions.js';
import {
  entityKey,
  onlineViewName,
  sourceTable,
  sourceTableSchema,
  viewTable,
  viewTableSchema,
} from '../../layout.js';
import { microsToMs } from '../created-clock.js';
import { latestPerEntity } from '../dual-write.js';
import { projectView, runSqlView, type ViewRow } from '../transform.js';
import { reserveCreatedMicros } from './created-range.js';
import { ident, literal } from './sql.js';

export interface FileWriteStores {
  offline: OfflineStore;
  online: OnlineStore;
  catalog: Catalog;
}

/** Scratch table names of one file load. */
export interface FileTables {
  good: string;
  fresh: string;
  staged: string;
}

const ONLINE_CHUNK = 10_000;

/**
 * Creates `fresh`: good rows whose id is new, first occurrence only. `__seq` (the row's offset in
 * the file) orders created timestamps; gaps left by dropped rows are harmless.
 */
async function selectFresh(offline: OfflineStore, source: SourceDef, tables: FileTables): Promise<number> {
  const good = ident(tables.good);
  await offline.query(
    `CREATE TEMP TABLE ${ident(tables.fresh)} AS SELECT *, __row - 1 AS __seq FROM ${good} g
     WHERE __row IN (SELECT min(__row) FROM ${good} GROUP BY __event_id)
       AND NOT EXISTS (SELECT 1 FROM ${ident(sourceTable(source.name))} s WHERE s.event_id = g.__event_id)`,
  );
  const [count] = await offline.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${ident(tables.fresh)}`);
  return Number(count?.n ?? 0);
}

const createdSql = (base: bigint): string => `make_timestamp(${base}::BIGINT + __seq)`;

/** Runs each SQL view over a copy of the new rows with exactly the source's columns and types. */
async function computeSqlViews(
  offline: OfflineStore,
  source: SourceDef,
  views: readonly ResolvedView[],
  tables: FileTables,
): Promise<Map<ResolvedView, ViewRow[]>> {
  const out = new Map<ResolvedView, ViewRow[]>();
  const sqlViews = views.filter((view) => view.sql);
  if (sqlViews.length === 0) return out;
  const columns = Object.entries(source.schema).map(
    ([name, type]) => `CAST(${ident(name)} AS ${DUCKDB_TYPES[type]}) AS ${ident(name)}`,
  );
  const staged = {
    table: tables.staged,
    drop: async () => {
      await offline.query(`DROP TABLE IF EXISTS ${ident(tables.staged)}`);
    },
  };
  await offline.query(
    `CREATE TEMP TABLE ${ident(tables.staged)} AS SELECT ${columns.join(', ')} FROM ${ident(tables.fresh)} ORDER BY __seq`,
  );
  try {
    for (const view of sqlViews) out.set(view, await runSqlView(offline, view, source, staged));
  } finally {
    await staged.drop();
  }
  return out;
}

function viewColumns(view: ResolvedView): string[] {
  return [...new Set([...view.keys.map((k) => k.name), ...Object.keys(view.features)])];
}

async function insertProjection(
  offline: OfflineStore,
  view: ResolvedView,
  source: SourceDef,
  tables: FileTables,
  base: bigint,
  runId: string,
): Promise<void> {
  const names = viewColumns(view);
  const target = [...names, 'event_timestamp', 'created_timestamp', 'transform_version', 'run_id'];
  const values = [
    ...names.map(ident),
    ident(source.timestampField),
    createdSql(base),
    `${view.transformVersion}::INTEGER`,
    literal(runId),
  ];
  await offline.query(
    `INSERT INTO ${ident(viewTable(view.name))} (${target.map(ident).join(', ')})
     SELECT ${values.join(', ')} FROM ${ident(tables.fresh)}`,
  );
}

function offlineRow(view: ResolvedView, row: ViewRow, runId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  view.keys.forEach((key, i) => {
    out[key.name] = row.keys[i];
  });
  return {
    ...out,
    ...row.features,
    event_timestamp: row.eventTime,
    created_timestamp: microsToMs(row.created),
    transform_version: view.transformVersion,
    run_id: runId,
  };
}

const toValue = (value: unknown): FeatureValue =>
  (value instanceof Date ? value.getTime() : value) as FeatureValue;

/** The newest new row per entity of a projection view, chosen by DuckDB. */
async function latestProjected(
  offline: OfflineStore,
  view: ResolvedView,
  source: SourceDef,
  tables: FileTables,
): Promise<OnlineRow[]> {
  const keys = view.keys.map((k) => ident(k.name)).join(', ');
  const features = Object.keys(view.features);
  const rows = await offline.query(
    `SELECT ${[...view.keys.map((k) => ident(k.name)), ...features.map(ident)].join(', ')},
       epoch_ms(${ident(source.timestampField)}) AS __event_ms
     FROM ${ident(tables.fresh)}
     QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${ident(source.timestampField)} DESC, __seq DESC) = 1`,
  );
  return rows.map((row) => {
    const values: Record<string, FeatureValue> = {};
    for (const name of features) values[name] = toValue(row[name]);
    return {
      entityKey: entityKey(view.keys.map((k) => row[k.name])),
      eventTime: Number(row.__event_ms),
      values,
    };
  });
}

async function writeOnline(
  online: OnlineStore,
  view: ResolvedView,
  rows: readonly OnlineRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ONLINE_CHUNK) {
    await online.writeLatest(onlineViewName(view), rows.slice(i, i + ONLINE_CHUNK));
  }
}

/** Writes the new rows of `tables.good` to every table and online; answers how many were new. */
export async function writeFileRows(
  stores: FileWriteStores,
  source: SourceDef,
  tables: FileTables,
  run: { id: string; fileRows: number },
): Promise<number> {
  const runId = run.id;
  const { offline, online, catalog } = stores;
  const rawTable = sourceTable(source.name);
  await offline.ensureTable(rawTable, sourceTableSchema(source));
  const fresh = await selectFresh(offline, source, tables);
  if (fresh === 0) return 0;
  const views = catalog.viewsOfSource(source.name);
  for (const view of views) if (!view.sql) projectView(view, source, [], []);
  const computed = await computeSqlViews(offline, source, views, tables);
  const base = reserveCreatedMicros(run.fileRows);
  for (const view of views) {
    await offline.ensureTable(viewTable(view.name), viewTableSchema(view));
    const rows = computed.get(view);
    if (rows)
      await offline.append(
        viewTable(view.name),
        rows.map((row) => offlineRow(view, row, runId)),
      );
    else await insertProjection(offline, view, source, tables, base, runId);
  }
  const columns = Object.keys(source.schema);
  await offline.query(
    `INSERT INTO ${ident(rawTable)} (${[...columns, 'event_id', 'created_timestamp'].map(ident).join(', ')})
     SELECT ${columns.map(ident).join(', ')}, __event_id, ${createdSql(base)} FROM ${ident(tables.fresh)}`,
  );
  for (const view of views) {
    if (!view.online) continue;
    const rows = computed.get(view);
    await writeOnline(
      online,
      view,
      rows ? latestPerEntity(rows) : await latestProjected(offline, view, source, tables),
    );
  }
  return fresh;
}

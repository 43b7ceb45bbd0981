/**
 * Writes a file's converted rows like a push batch (see dual-write.ts for the order): drop rows
 * whose event id is stored or repeated earlier in the file, write every view's rows, then the raw
 * source rows, then the newest row per entity online. Views flow through the same DAG as a push
 * (view-dag.ts), with the same lineage; a projection of the source that no downstream view reads
 * is one INSERT ... SELECT, every other view runs through the push path's code over the new rows.
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
import type { IngestQuality } from '../../quality/hooks.js';
import { microsToMs } from '../created-clock.js';
import { latestPerEntity } from '../dual-write.js';
import type { ParsedEvent } from '../events.js';
import { appendLineage, type LineageInput, type LineageWrite, lineageInput, lineageOf } from '../lineage.js';
import { projectView, runSqlView, type StagedBatch, sourceSqlInput, type ViewRow } from '../transform.js';
import { sharedTransformPool, type TransformPool } from '../transform-pool.js';
import { runTsView, transformInputRow } from '../ts-transform.js';
import { computeDownstream, upstreamInputs, upstreamNames, viewsOfBatch } from '../view-dag.js';
import { reserveCreatedMicros } from './created-range.js';
import { ident, literal } from './sql.js';

export interface FileWriteStores {
  offline: OfflineStore;
  online: OnlineStore;
  catalog: Catalog;
  /** Where TypeScript transforms run; the process-wide pool when absent. */
  transforms?: TransformPool;
  /** Told which views were written (freshness). */
  quality?: IngestQuality;
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

/** Stages the new rows with exactly the source's columns and types, in file order, for SQL views. */
async function stageFresh(
  offline: OfflineStore,
  source: SourceDef,
  tables: FileTables,
): Promise<StagedBatch> {
  await offline.query(
    `CREATE TEMP TABLE ${ident(tables.staged)} AS SELECT ${castColumns(source).join(', ')} FROM ${ident(tables.fresh)} ORDER BY __seq`,
  );
  return {
    table: tables.staged,
    drop: async () => {
      await offline.query(`DROP TABLE IF EXISTS ${ident(tables.staged)}`);
    },
  };
}

const castColumns = (source: SourceDef): string[] =>
  Object.entries(source.schema).map(
    ([name, type]) => `CAST(${ident(name)} AS ${DUCKDB_TYPES[type]}) AS ${ident(name)}`,
  );

/**
 * The new rows as events in store types (timestamps epoch ms), in file order, with their created
 * timestamps: for TypeScript transforms and for projections a downstream view reads.
 */
async function loadFresh(
  offline: OfflineStore,
  source: SourceDef,
  tables: FileTables,
  base: bigint,
): Promise<{ events: ParsedEvent[]; created: bigint[] }> {
  const rows = await offline.query(
    `SELECT ${castColumns(source).join(', ')}, __seq, __event_id FROM ${ident(tables.fresh)} ORDER BY __seq`,
  );
  const timestamps = Object.keys(source.schema).filter((name) => source.schema[name] === 'timestamp');
  const events = rows.map((row): ParsedEvent => {
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(source.schema)) values[name] = row[name];
    for (const name of timestamps) values[name] = toValue(values[name]);
    return { values, eventTime: values[source.timestampField] as number, id: String(row.__event_id) };
  });
  return { events, created: rows.map((row) => base + BigInt(row.__seq as bigint | number)) };
}

/** The event-time range of the new rows, for lineage. */
async function freshRange(
  offline: OfflineStore,
  source: SourceDef,
  tables: FileTables,
): Promise<LineageInput> {
  const ts = ident(source.timestampField);
  const [range] = await offline.query<{ lo: number | null; hi: number | null }>(
    `SELECT epoch_ms(min(${ts}))::DOUBLE AS lo, epoch_ms(max(${ts}))::DOUBLE AS hi FROM ${ident(tables.fresh)}`,
  );
  return lineageInput('source', source.name, range?.lo ?? null, range?.hi ?? null);
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

/** What the compute phase decided for each view: rows in memory, or one INSERT ... SELECT. */
type Computed = Map<ResolvedView, ViewRow[] | 'set-based'>;

/**
 * Computes every view of the batch (see view-dag.ts) before anything is written, so a failing
 * transform leaves nothing behind. A projection of the source no downstream view reads stays
 * set-based; every other view is computed in memory.
 */
async function computeViews(
  stores: FileWriteStores,
  source: SourceDef,
  tables: FileTables,
  run: { id: string; base: bigint; rows: number },
): Promise<{ computed: Computed; lineage: LineageWrite[] }> {
  const { offline, catalog } = stores;
  const pool = stores.transforms ?? sharedTransformPool();
  const views = viewsOfBatch(catalog, source.name);
  for (const view of views)
    if (view.source && !view.sql && !view.transform) projectView(view, source, [], []);
  const kept = upstreamNames(views);
  const computed: Computed = new Map();
  const byName = new Map<string, ViewRow[]>();
  const lineage: LineageWrite[] = [];
  const sourceInput = await freshRange(offline, source, tables);
  let fresh: { events: ParsedEvent[]; created: bigint[] } | undefined;
  let staged: StagedBatch | undefined;
  let input: Record<string, unknown>[] | undefined;
  try {
    for (const view of views) {
      let rows: ViewRow[] | 'set-based';
      if (!view.source)
        rows = await computeDownstream({ offline, pool, catalog, runId: run.id }, view, byName);
      else if (view.transform) {
        fresh ??= await loadFresh(offline, source, tables, run.base);
        input ??= fresh.events.map((e) => transformInputRow(source.schema, e.values));
        rows = await runTsView(pool, view, { rows: input, timestampField: source.timestampField });
      } else if (view.sql) {
        staged ??= await stageFresh(offline, source, tables);
        rows = await runSqlView(offline, view, sourceSqlInput(source, staged));
      } else if (kept.has(view.name)) {
        fresh ??= await loadFresh(offline, source, tables, run.base);
        rows = projectView(view, source, fresh.events, fresh.created);
      } else rows = 'set-based';
      computed.set(view, rows);
      if (rows !== 'set-based') byName.set(view.name, rows);
      const inputs = view.source ? [sourceInput] : upstreamInputs(view, byName);
      lineage.push(
        lineageOf(view, inputs, rows === 'set-based' ? run.rows : rows.length, { id: run.id, path: 'file' }),
      );
    }
  } finally {
    await staged?.drop();
  }
  return { computed, lineage };
}

/** Writes the new rows of `tables.good` to every table and online; answers how many were new. */
export async function writeFileRows(
  stores: FileWriteStores,
  source: SourceDef,
  tables: FileTables,
  run: { id: string; fileRows: number },
): Promise<number> {
  const runId = run.id;
  const { offline, online } = stores;
  const rawTable = sourceTable(source.name);
  await offline.ensureTable(rawTable, sourceTableSchema(source));
  const fresh = await selectFresh(offline, source, tables);
  if (fresh === 0) return 0;
  const base = reserveCreatedMicros(run.fileRows);
  const { computed, lineage } = await computeViews(stores, source, tables, { id: runId, base, rows: fresh });
  for (const [view, rows] of computed) {
    await offline.ensureTable(viewTable(view.name), viewTableSchema(view));
    if (rows === 'set-based') await insertProjection(offline, view, source, tables, base, runId);
    else
      await offline.append(
        viewTable(view.name),
        rows.map((row) => offlineRow(view, row, runId)),
      );
  }
  await appendLineage(offline, lineage);
  const columns = Object.keys(source.schema);
  await offline.query(
    `INSERT INTO ${ident(rawTable)} (${[...columns, 'event_id', 'created_timestamp'].map(ident).join(', ')})
     SELECT ${columns.map(ident).join(', ')}, __event_id, ${createdSql(base)} FROM ${ident(tables.fresh)}`,
  );
  stores.quality?.written(
    [...computed].filter(([, rows]) => rows === 'set-based' || rows.length > 0).map(([view]) => view.name),
  );
  for (const [view, rows] of computed) {
    if (!view.online) continue;
    await writeOnline(
      online,
      view,
      rows === 'set-based' ? await latestProjected(offline, view, source, tables) : latestPerEntity(rows),
    );
  }
  return fresh;
}

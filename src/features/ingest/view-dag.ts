/**
 * A batch flows through the views as a DAG: first the views of its source, then, in topological
 * order, every view downstream of them. A view over upstream views sees, per batch, the rows those
 * views produced from that batch (an upstream view the batch did not reach contributes nothing),
 * so its rows are computed from exactly what was written alongside them, in the push path and in
 * the file path alike. Its rows get created timestamps after those of their inputs.
 */
import type { OfflineSchema, OfflineStore } from '../../stores/offline/port.js';
import type { Catalog, ResolvedView } from '../catalog.js';
import { topologicalOrder } from '../plan.js';
import { nextCreatedMicros } from './created-clock.js';
import { type LineageInput, viewInput } from './lineage.js';
import { runSqlView, type ViewRow } from './transform.js';
import type { TransformPool } from './transform-pool.js';
import { runTsView, viewRowAsInput } from './ts-transform.js';

/** The views a batch of `source` flows through, upstream first. */
export function viewsOfBatch(catalog: Catalog, source: string): ResolvedView[] {
  const reached = new Set<string>();
  return topologicalOrder(catalog.views()).filter((view) => {
    const hit = view.source === source || (view.views ?? []).some((upstream) => reached.has(upstream));
    if (hit) reached.add(view.name);
    return hit;
  });
}

/** Names of the views some view in `views` reads: their rows must be kept for downstream views. */
export function upstreamNames(views: readonly ResolvedView[]): Set<string> {
  return new Set(views.flatMap((view) => view.views ?? []));
}

/** What computing a view of views needs. */
export interface DownstreamContext {
  offline: OfflineStore;
  pool: TransformPool;
  catalog: Catalog;
  runId: string;
}

/** The lineage inputs of a view of views: each upstream view and the range of its rows in this batch. */
export function upstreamInputs(view: ResolvedView, computed: ReadonlyMap<string, ViewRow[]>): LineageInput[] {
  return (view.views ?? []).map((name) => viewInput(name, computed.get(name) ?? []));
}

/** Computes a view of views from the rows its upstream views computed in this batch. */
export async function computeDownstream(
  ctx: DownstreamContext,
  view: ResolvedView,
  computed: ReadonlyMap<string, ViewRow[]>,
): Promise<ViewRow[]> {
  const upstream = (view.views ?? []).map((name) => ({
    view: ctx.catalog.view(name)!,
    rows: computed.get(name) ?? [],
  }));
  if (view.transform) {
    const byView = Object.fromEntries(
      upstream.map((u) => [u.view.name, u.rows.map((row) => viewRowAsInput(u.view, row))]),
    );
    return runTsView(ctx.pool, view, {
      rows: Object.values(byView).flat(),
      byView,
      timestampField: 'event_timestamp',
    });
  }
  if (view.sql) return runSqlOverViews(ctx, view, upstream);
  return upstream.flatMap((u) => projectFromView(view, u.view, u.rows));
}

/** A projection of an upstream view's rows: the same keys, the named features, the same event time. */
function projectFromView(view: ResolvedView, upstream: ResolvedView, rows: readonly ViewRow[]): ViewRow[] {
  const keyIndex = upstream.keys.map((k) => k.name);
  const pick = (row: ViewRow, name: string): unknown => {
    const at = keyIndex.indexOf(name);
    return at >= 0 ? row.keys[at] : row.features[name];
  };
  return rows.map((row) => {
    const features: Record<string, unknown> = {};
    for (const name of Object.keys(view.features)) features[name] = pick(row, name);
    return {
      keys: view.keys.map((k) => pick(row, k.name)),
      features,
      eventTime: row.eventTime,
      created: nextCreatedMicros(),
    };
  });
}

/** Stages each upstream view's batch rows as `{{view}}` (keys, features, event_timestamp) and runs the SQL. */
async function runSqlOverViews(
  ctx: DownstreamContext,
  view: ResolvedView,
  upstream: { view: ResolvedView; rows: ViewRow[] }[],
): Promise<ViewRow[]> {
  const tables: Record<string, string> = {};
  const run = ctx.runId.replaceAll('-', '');
  try {
    for (const u of upstream) {
      const table = `stg_${run}_${u.view.name}`;
      tables[u.view.name] = table;
      await ctx.offline.ensureTable(table, stagedSchema(u.view));
      await ctx.offline.append(
        table,
        u.rows.map((row) => stagedRow(u.view, row)),
      );
    }
    return await runSqlView(ctx.offline, view, { tables, timestampField: 'event_timestamp' });
  } finally {
    for (const table of Object.values(tables))
      await ctx.offline.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
  }
}

function stagedSchema(view: ResolvedView): OfflineSchema {
  const schema: OfflineSchema = {};
  for (const key of view.keys) schema[key.name] = key.type;
  for (const [name, type] of Object.entries(view.features)) if (!(name in schema)) schema[name] = type;
  schema.event_timestamp = 'timestamp';
  return schema;
}

function stagedRow(view: ResolvedView, row: ViewRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row.features };
  view.keys.forEach((key, i) => {
    out[key.name] = row.keys[i];
  });
  out.event_timestamp = row.eventTime;
  return out;
}

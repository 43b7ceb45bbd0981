/**
 * Writes one batch of a source's events: dedup by event id, transform through the views of the
 * source and the views downstream of them, append to the offline store with the lineage of each
 * view's write, then update the online store. The batch is acknowledged only after all of it.
 *
 * Order and crashes. The offline store is the source of truth and the raw source table doubles as
 * the record of which event ids are stored, so it is written last of the offline tables:
 * - death before the raw append: nothing was acknowledged; a retry is not seen as a duplicate and
 *   writes the view rows again. The repeated rows carry the same values and event time, so every
 *   point-in-time answer stays the same (the later copy wins a tie with identical values).
 * - death between the offline and the online write: nothing was acknowledged, and the offline rows
 *   are complete. A retried push is then dropped as a duplicate, so the online store stays behind
 *   for those entities until a newer event arrives or the view is materialized from the offline
 *   history (which applies the same newest-event rule). No acknowledged event is ever lost: the
 *   acknowledgement waits for both writes.
 * The online write of a batch overlaps the next batch's offline write (the batcher runs online
 * writes one at a time, in batch order), so a crash may leave the last two batches in that state.
 */
import { MeridianError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { OfflineSchema, OfflineStore } from '../../stores/offline/port.js';
import type { FeatureValue, OnlineRow, OnlineStore } from '../../stores/online/port.js';
import type { Catalog, ResolvedView } from '../catalog.js';
import type { SourceDef } from '../definitions.js';
import {
  entityKey,
  LINEAGE_SCHEMA,
  LINEAGE_TABLE,
  onlineViewName,
  sourceTable,
  sourceTableSchema,
  viewTable,
  viewTableSchema,
} from '../layout.js';
import type { IngestQuality } from '../quality/hooks.js';
import type { Handoff } from './batcher.js';
import { microsToMs, nextCreatedMicros } from './created-clock.js';
import type { ParsedEvent } from './events.js';
import { appendLineage, type LineageWrite, lineageInput, lineageOf } from './lineage.js';
import {
  projectView,
  runSqlView,
  type StagedBatch,
  sourceSqlInput,
  stageBatch,
  type ViewRow,
} from './transform.js';
import { sharedTransformPool, type TransformPool } from './transform-pool.js';
import { runTsView, transformInputRow } from './ts-transform.js';
import { computeDownstream, upstreamInputs, viewsOfBatch } from './view-dag.js';

export interface DualWriteStores {
  offline: OfflineStore;
  online: OnlineStore;
  catalog: Catalog;
  /** Where TypeScript transforms run; the process-wide pool when absent. */
  transforms?: TransformPool;
  /** Told about rejected events and written views (violations and freshness). */
  quality?: IngestQuality;
}

/** Remembers which tables exist with which schema, so a batch does not re-check them every time. */
export class TableCache {
  private readonly known = new Set<string>();

  /** Creates the table if this process has not yet ensured it with this schema. */
  async ensure(offline: OfflineStore, table: string, schema: OfflineSchema): Promise<void> {
    const key = `${table}\u0000${JSON.stringify(schema)}`;
    if (this.known.has(key)) return;
    await offline.ensureTable(table, schema);
    this.known.add(key);
  }
}

/**
 * Marks each event new (true) or a duplicate (false): of an earlier event in the batch or a stored
 * one, checked with one query per batch. A hashed id covers the event timestamp, so a stored twin
 * has the same one: the time range lets DuckDB skip row groups outside the batch's span.
 */
async function findNew(
  offline: OfflineStore,
  source: SourceDef,
  events: readonly ParsedEvent[],
): Promise<boolean[]> {
  const firstIndex = new Map<string, number>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  events.forEach((event, i) => {
    if (!firstIndex.has(event.id)) firstIndex.set(event.id, i);
    min = Math.min(min, event.eventTime);
    max = Math.max(max, event.eventTime);
  });
  const ids = [...firstIndex.keys()];
  // Hashed ids are hex: one comma-joined string binds and splits faster than a VARCHAR[] parameter.
  const inRange = source.idField ? '' : ` AND "${source.timestampField}" BETWEEN $2 AND $3`;
  const idList = source.idField ? '$1::VARCHAR[]' : "string_split($1, ',')";
  const stored = await offline.query<{ event_id: string }>(
    `SELECT event_id FROM "${sourceTable(source.name)}" WHERE event_id IN (SELECT unnest(${idList}))${inRange}`,
    source.idField ? [ids] : [ids.join(','), new Date(min), new Date(max)],
  );
  const storedIds = new Set(stored.map((row) => row.event_id));
  return events.map((event, i) => firstIndex.get(event.id) === i && !storedIds.has(event.id));
}

/** The event-time range of a batch's events. */
function eventRange(events: readonly ParsedEvent[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    min = Math.min(min, event.eventTime);
    max = Math.max(max, event.eventTime);
  }
  return [min, max];
}

/**
 * Computes every view's rows for the new events through the DAG (see view-dag.ts), with the lineage
 * of each; SQL views of the source share one staged copy of the batch.
 */
async function transformAll(
  stores: DualWriteStores,
  source: SourceDef,
  events: readonly ParsedEvent[],
  created: readonly bigint[],
  runId: string,
): Promise<{ computed: Map<ResolvedView, ViewRow[]>; lineage: LineageWrite[] }> {
  const { offline, catalog } = stores;
  const pool = stores.transforms ?? sharedTransformPool();
  const computed = new Map<ResolvedView, ViewRow[]>();
  const byName = new Map<string, ViewRow[]>();
  const lineage: LineageWrite[] = [];
  const run = { id: runId, path: 'push' as const };
  const sourceInput = lineageInput('source', source.name, ...eventRange(events));
  let staged: StagedBatch | undefined;
  let input: Record<string, unknown>[] | undefined;
  try {
    for (const view of viewsOfBatch(catalog, source.name)) {
      let rows: ViewRow[];
      if (!view.source) rows = await computeDownstream({ offline, pool, catalog, runId }, view, byName);
      else if (view.transform) {
        input ??= events.map((e) => transformInputRow(source.schema, e.values));
        rows = await runTsView(pool, view, { rows: input, timestampField: source.timestampField });
      } else if (view.sql) {
        staged ??= await stageBatch(offline, source, events, runId);
        rows = await runSqlView(offline, view, sourceSqlInput(source, staged));
      } else rows = projectView(view, source, events, created);
      const inputs = view.source ? [sourceInput] : upstreamInputs(view, byName);
      computed.set(view, rows);
      byName.set(view.name, rows);
      lineage.push(lineageOf(view, inputs, rows.length, run));
    }
  } finally {
    await staged?.drop();
  }
  return { computed, lineage };
}

function offlineRow(view: ResolvedView, row: ViewRow, runId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  view.keys.forEach((key, i) => {
    out[key.name] = row.keys[i];
  });
  for (const [name, value] of Object.entries(row.features)) out[name] = value;
  out.event_timestamp = row.eventTime;
  out.created_timestamp = microsToMs(row.created);
  out.transform_version = view.transformVersion;
  out.run_id = runId;
  return out;
}

/**
 * One online row per entity: the newest event, and at an equal event time the later-created row,
 * which is the point-in-time tie-break; the store itself never lets an older event overwrite.
 */
export function latestPerEntity(rows: readonly ViewRow[]): OnlineRow[] {
  const latest = new Map<string, ViewRow>();
  for (const row of rows) {
    const key = entityKey(row.keys);
    const held = latest.get(key);
    if (
      !held ||
      row.eventTime > held.eventTime ||
      (row.eventTime === held.eventTime && row.created > held.created)
    ) {
      latest.set(key, row);
    }
  }
  return [...latest].map(([key, row]) => ({
    entityKey: key,
    eventTime: row.eventTime,
    values: row.features as Record<string, FeatureValue>,
  }));
}

/**
 * Writes one batch to the offline store, then hands off its online write: `finish`, which the batcher
 * runs after the previous batch's, applies the rows online and answers, per event, whether it was
 * newly stored. The next batch's offline write may run meanwhile: its dedup needs only this batch's
 * raw rows, durable when this resolves.
 */
export async function writeBatch(
  stores: DualWriteStores,
  tables: TableCache,
  source: SourceDef,
  events: readonly ParsedEvent[],
): Promise<Handoff<boolean>> {
  const { offline, online } = stores;
  const rawTable = sourceTable(source.name);
  await tables.ensure(offline, rawTable, sourceTableSchema(source));
  const isNew = await findNew(offline, source, events);
  const fresh = events.filter((_, i) => isNew[i]);
  if (fresh.length === 0) return { finish: async () => isNew };
  const created = fresh.map(() => nextCreatedMicros());
  const runId = newId();
  const { computed, lineage } = await transformAll(stores, source, fresh, created, runId);
  for (const [view, rows] of computed) {
    await tables.ensure(offline, viewTable(view.name), viewTableSchema(view));
    await offline.append(
      viewTable(view.name),
      rows.map((row) => offlineRow(view, row, runId)),
    );
  }
  await tables.ensure(offline, LINEAGE_TABLE, LINEAGE_SCHEMA);
  await appendLineage(offline, lineage, { ensured: true });
  await offline.append(
    rawTable,
    fresh.map((event, i) => ({
      ...event.values,
      event_id: event.id,
      created_timestamp: microsToMs(created[i]!),
    })),
  );
  stores.quality?.written([...computed].filter(([, rows]) => rows.length > 0).map(([view]) => view.name));
  return {
    finish: async () => {
      for (const [view, rows] of computed) {
        if (view.online && rows.length > 0)
          await online.writeLatest(onlineViewName(view), latestPerEntity(rows));
      }
      return isNew;
    },
  };
}

/** The error for a push to a source the catalog does not have. */
export function unknownSource(name: string): MeridianError {
  return new MeridianError(
    'NOT_FOUND',
    `source "${name}" does not exist; apply its definition with POST /v1/apply (or meridian apply) and push again`,
    { field: 'source', source: name },
  );
}

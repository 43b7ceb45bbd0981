/**
 * Lineage: for every write of every view, which transform version computed it from which inputs
 * (the source, or upstream views) over which event-time range, how many rows it wrote, in which
 * run and by which path. Kept in the offline store beside the rows it describes, append-only.
 */
import { invalidArgument } from '../../core/errors.js';
import type { OfflineStore } from '../../stores/offline/port.js';
import type { ResolvedView } from '../catalog.js';
import { LINEAGE_SCHEMA, LINEAGE_TABLE } from '../layout.js';
import { microsToMs, nextCreatedMicros } from './created-clock.js';
import type { ViewRow } from './transform.js';

/** One input of a write and the event-time range of what it contributed (null when it gave nothing). */
export interface LineageInput {
  kind: 'source' | 'view';
  name: string;
  minEventTime: string | null;
  maxEventTime: string | null;
}

/** One write of one view, as `GET /v1/feature-views/:name/lineage` answers it. */
export interface LineageRecord {
  view: string;
  transformVersion: number;
  inputs: LineageInput[];
  rowsWritten: number;
  runId: string;
  path: 'push' | 'file';
  writtenAt: string;
}

/** What a write records before it knows its time. */
export type LineageWrite = Omit<LineageRecord, 'writtenAt'>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The input entry for a range of epoch-ms event times. */
export function lineageInput(
  kind: LineageInput['kind'],
  name: string,
  min: number | null,
  max: number | null,
): LineageInput {
  return { kind, name, minEventTime: iso(min), maxEventTime: iso(max) };
}

/** The input entry of an upstream view, from the rows it computed in this batch. */
export function viewInput(name: string, rows: readonly ViewRow[]): LineageInput {
  let min: number | null = null;
  let max: number | null = null;
  for (const row of rows) {
    if (min === null || row.eventTime < min) min = row.eventTime;
    if (max === null || row.eventTime > max) max = row.eventTime;
  }
  return lineageInput('view', name, min, max);
}

/** The lineage of one write of `view`. */
export function lineageOf(
  view: ResolvedView,
  inputs: LineageInput[],
  rowsWritten: number,
  run: { id: string; path: LineageRecord['path'] },
): LineageWrite {
  return {
    view: view.name,
    transformVersion: view.transformVersion,
    inputs,
    rowsWritten,
    runId: run.id,
    path: run.path,
  };
}

/** Appends the lineage of one batch's writes, all stamped with one time; `ensured` skips creating the table. */
export async function appendLineage(
  offline: OfflineStore,
  writes: readonly LineageWrite[],
  options: { ensured?: boolean } = {},
): Promise<void> {
  if (writes.length === 0) return;
  if (!options.ensured) await offline.ensureTable(LINEAGE_TABLE, LINEAGE_SCHEMA);
  // The created clock is strictly increasing, so newest-first order is exact even within a millisecond.
  const now = microsToMs(nextCreatedMicros());
  await offline.append(
    LINEAGE_TABLE,
    writes.map((w) => ({
      view: w.view,
      transform_version: w.transformVersion,
      inputs: JSON.stringify(w.inputs),
      rows_written: BigInt(w.rowsWritten),
      run_id: w.runId,
      path: w.path,
      written_at: now,
    })),
  );
}

/** The newest `limit` lineage records of a view, newest first. */
export async function readLineage(
  offline: OfflineStore,
  view: string,
  limit: number,
): Promise<LineageRecord[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalidArgument(
      'limit',
      `${limit} is not a whole number from 1 to 1000`,
      'send limit=1..1000 (default 100)',
    );
  await offline.ensureTable(LINEAGE_TABLE, LINEAGE_SCHEMA);
  const rows = await offline.query<{
    view: string;
    transform_version: number;
    inputs: string;
    rows_written: bigint;
    run_id: string;
    path: LineageRecord['path'];
    written_at: Date;
  }>(`SELECT * FROM "${LINEAGE_TABLE}" WHERE view = $1 ORDER BY written_at DESC, run_id DESC LIMIT $2`, [
    view,
    limit,
  ]);
  return rows.map((r) => ({
    view: r.view,
    transformVersion: Number(r.transform_version),
    inputs: JSON.parse(r.inputs) as LineageInput[],
    rowsWritten: Number(r.rows_written),
    runId: r.run_id,
    path: r.path,
    writtenAt: r.written_at.toISOString(),
  }));
}

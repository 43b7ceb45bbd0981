/**
 * Finding the prediction each label belongs to, set-based in DuckDB: one query for every label keyed
 * by request id and row, one per entity key shape (the sorted key names) for labels keyed by entity.
 * An entity label belongs to the model's latest prediction whose entity key has the same values
 * (compared as text: 101 and "101" are the same key) at or before the label's time; ties in time go
 * to the greatest request id, then row, so the choice is deterministic.
 */
import type { OfflineStore } from '../../stores/offline/port.js';
import type { LabelByEntity, LabelInput } from './schema.js';
import { isByPrediction } from './schema.js';
import { PREDICTIONS_TABLE, tableExists } from './table.js';

/** The prediction row a label was matched to. */
export interface MatchedPrediction {
  requestId: string;
  row: number;
  model: string;
  version: number;
  time: Date;
}

interface PredictionRow {
  i?: number;
  request_id: string;
  row: number;
  model: string;
  version: bigint | number;
  time: Date;
}

const SELECTED = 'p.request_id, p."row", p.model, p.version, p.time';

function toMatch(r: PredictionRow): MatchedPrediction {
  return { requestId: r.request_id, row: r.row, model: r.model, version: Number(r.version), time: r.time };
}

/** Per label (same order), the prediction it belongs to, or undefined when none is in the log. */
export async function matchPredictions(
  offline: OfflineStore,
  labels: readonly LabelInput[],
): Promise<(MatchedPrediction | undefined)[]> {
  const matches: (MatchedPrediction | undefined)[] = new Array(labels.length).fill(undefined);
  if (labels.length === 0 || !(await tableExists(offline, PREDICTIONS_TABLE))) return matches;
  await matchById(offline, labels, matches);
  const groups = new Map<string, number[]>();
  labels.forEach((label, i) => {
    if (isByPrediction(label)) return;
    const shape = Object.keys(label.entity).sort().join('\u0000');
    groups.set(shape, [...(groups.get(shape) ?? []), i]);
  });
  for (const indexes of groups.values()) await matchByEntity(offline, labels, indexes, matches);
  return matches;
}

async function matchById(
  offline: OfflineStore,
  labels: readonly LabelInput[],
  matches: (MatchedPrediction | undefined)[],
): Promise<void> {
  const ids: string[] = [];
  const rows: number[] = [];
  for (const label of labels) {
    if (!isByPrediction(label)) continue;
    ids.push(label.predictionId);
    rows.push(label.row);
  }
  if (ids.length === 0) return;
  // A prediction logged twice (an at-least-once redelivery) is one prediction: its first copy.
  const found = await offline.query<PredictionRow>(
    `WITH q AS (SELECT DISTINCT unnest($1::VARCHAR[]) AS request_id, unnest($2::DOUBLE[])::INTEGER AS "row")
     SELECT ${SELECTED} FROM ${PREDICTIONS_TABLE} p JOIN q ON p.request_id = q.request_id AND p."row" = q."row"
     QUALIFY row_number() OVER (PARTITION BY p.request_id, p."row" ORDER BY p.time) = 1`,
    [ids, rows],
  );
  const byKey = new Map(found.map((r) => [`${r.request_id}\u0000${r.row}`, toMatch(r)]));
  labels.forEach((label, i) => {
    if (isByPrediction(label)) matches[i] = byKey.get(`${label.predictionId}\u0000${label.row}`);
  });
}

/** The text DuckDB's json_extract_string gives for an entity key value. */
function keyText(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value);
}

async function matchByEntity(
  offline: OfflineStore,
  labels: readonly LabelInput[],
  indexes: readonly number[],
  matches: (MatchedPrediction | undefined)[],
): Promise<void> {
  const group = indexes.map((i) => labels[i] as LabelByEntity);
  const keys = Object.keys(group[0]!.entity).sort();
  const params: unknown[] = [
    indexes.slice(),
    group.map((l) => l.model),
    group.map((l) => Date.parse(l.time)),
    ...keys.map((k) => group.map((l) => keyText(l.entity[k]!))),
    ...keys.map((k) => `$."${k}"`),
  ];
  const keyColumns = keys.map((_, j) => `unnest($${4 + j}::VARCHAR[]) AS k${j}`).join(', ');
  const keyConditions = keys
    .map((_, j) => `json_extract_string(p.entity_keys, $${4 + keys.length + j}) = q.k${j}`)
    .join(' AND ');
  const found = await offline.query<PredictionRow>(
    `WITH u AS (SELECT unnest($1::DOUBLE[])::INTEGER AS i, unnest($2::VARCHAR[]) AS model,
                       unnest($3::DOUBLE[])::BIGINT AS ms, ${keyColumns}),
          q AS (SELECT *, epoch_ms(ms) AS t FROM u)
     SELECT q.i, ${SELECTED} FROM q JOIN ${PREDICTIONS_TABLE} p
       ON p.model = q.model AND p.time <= q.t AND ${keyConditions}
     QUALIFY row_number() OVER (PARTITION BY q.i ORDER BY p.time DESC, p.request_id DESC, p."row" DESC) = 1`,
    params,
  );
  for (const r of found) matches[Number(r.i)] = toMatch(r);
}

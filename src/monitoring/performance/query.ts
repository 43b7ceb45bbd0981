/**
 * The one DuckDB query behind a window's performance: the window's predictions of a model version
 * joined with their labels (the first label of a prediction row), aggregated into confusion cells
 * (true label x predicted label, compared as JSON text) with, per cell, the sum of the average
 * ranks of the positive-class score (the last probability) over all labelled rows, and the absolute
 * and squared errors of regression predictions; plus the count of all the window's predictions,
 * whose unlabelled rest is one more cell. Only labelled rows have their output parsed: labels are
 * usually a small share of a window, and parsing every row's JSON was most of the query's time.
 * Everything after this is arithmetic on a handful of rows.
 */
import type { OfflineStore } from '../../stores/offline/port.js';
import { LABELS_SCHEMA, LABELS_TABLE, PREDICTIONS_TABLE, tableExists } from '../labels/table.js';

/** One aggregated cell of the window. */
export interface PerformanceCell {
  labelled: boolean;
  /** The true label as text; null for unlabelled rows and for regressions. */
  y: string | null;
  /** The predicted class as text; null for regressions. */
  yhat: string | null;
  n: number;
  /** Sum of the average (tie-averaged) ranks of the last-class probability, labelled rows only. */
  rankSum: number | null;
  /** Labelled rows that have a last-class probability. */
  scored: number;
  /** The widest probability vector in the cell. */
  classes: number | null;
  absErr: number | null;
  sqErr: number | null;
  /** Labelled rows with a numeric prediction and a numeric label. */
  regressed: number;
}

const WINDOW = 'p.model = $1 AND p.version = $2 AND p.time >= $3 AND p.time < $4';

const WINDOW_SQL = `
WITH l AS (
  SELECT request_id, "row", label FROM ${LABELS_TABLE} WHERE model = $1 AND version = $2
  QUALIFY row_number() OVER (PARTITION BY request_id, "row" ORDER BY received_at) = 1
),
j AS (
  SELECT json_extract_string(l.label, '$') AS y,
    json_extract_string(p.output, '$.label') AS yhat,
    TRY_CAST(json_extract_string(l.label, '$') AS DOUBLE) AS y_num,
    TRY_CAST(json_extract_string(p.output, '$.prediction') AS DOUBLE) AS pred,
    TRY_CAST(json_extract_string(p.output, '$.probabilities[#-1]') AS DOUBLE) AS score,
    json_array_length(p.output, '$.probabilities') AS classes
  FROM ${PREDICTIONS_TABLE} p JOIN l ON l.request_id = p.request_id AND l."row" = p."row"
  WHERE ${WINDOW}
),
r AS (
  SELECT *, CASE WHEN score IS NOT NULL THEN
      rank() OVER (PARTITION BY score IS NOT NULL ORDER BY score)
      + (count(*) OVER (PARTITION BY score IS NOT NULL, score) - 1) / 2.0
    END AS score_rank
  FROM j
)
SELECT true AS labelled, CASE WHEN yhat IS NOT NULL THEN y END AS y, yhat,
  count(*) AS n, sum(score_rank) AS rank_sum, count(score_rank) AS scored, max(classes) AS classes,
  sum(abs(pred - y_num)) AS abs_err, sum((pred - y_num) * (pred - y_num)) AS sq_err,
  count(pred - y_num) AS regressed
FROM r GROUP BY ALL
UNION ALL
-- Every prediction of the window, labelled or not: one statement, so one snapshot for both counts.
SELECT false, NULL, NULL, count(*), NULL, 0, NULL, NULL, NULL, 0 FROM ${PREDICTIONS_TABLE} p WHERE ${WINDOW}`;

interface CellRow {
  labelled: boolean;
  y: string | null;
  yhat: string | null;
  n: bigint;
  rank_sum: number | null;
  scored: bigint;
  classes: bigint | number | null;
  abs_err: number | null;
  sq_err: number | null;
  regressed: bigint;
}

const num = (v: bigint | number | null): number | null => (v === null ? null : Number(v));

/** The window [from, to) of the version's predictions, aggregated; empty when nothing was logged in it. */
export async function windowCells(
  offline: OfflineStore,
  model: string,
  version: number,
  from: Date,
  to: Date,
): Promise<PerformanceCell[]> {
  if (!(await tableExists(offline, PREDICTIONS_TABLE))) return [];
  await offline.ensureTable(LABELS_TABLE, LABELS_SCHEMA);
  const rows = await offline.query<CellRow>(WINDOW_SQL, [model, version, from, to]);
  const labelled = rows.filter((r) => r.labelled);
  const all = Number(rows.find((r) => !r.labelled)?.n ?? 0);
  const unlabelled = all - labelled.reduce((s, r) => s + Number(r.n), 0);
  const cells = labelled.map((r) => ({
    labelled: true,
    y: r.y,
    yhat: r.yhat,
    n: Number(r.n),
    rankSum: num(r.rank_sum),
    scored: Number(r.scored),
    classes: num(r.classes),
    absErr: num(r.abs_err),
    sqErr: num(r.sq_err),
    regressed: Number(r.regressed),
  }));
  if (unlabelled === 0) return cells;
  const rest = { labelled: false, y: null, yhat: null, n: unlabelled, rankSum: null, scored: 0 };
  return [...cells, { ...rest, classes: null, absErr: null, sqErr: null, regressed: 0 }];
}
